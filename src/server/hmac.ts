/**
 * HMAC-signed HTTP API requests, webhook style. The caller signs
 * `<timestamp>.<METHOD>.<path with query>.<body>` with HMAC-SHA256 and sends
 * `X-Parley-Timestamp: <unix seconds>` and `X-Parley-Signature: v1=<hex>`. A request is accepted
 * when the signature matches one of the configured secrets, the timestamp is within the
 * tolerance, and the same signature was not seen before within that window (a captured request
 * cannot be replayed).
 * @packageDocumentation
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signing time. */
export const TIMESTAMP_HEADER = 'x-parley-timestamp';
/** Header carrying the signature. */
export const SIGNATURE_HEADER = 'x-parley-signature';

/** Computes the `v1=` signature of a request (what a caller sends). */
export function signRequest(secret: string, timestamp: number, method: string, path: string, body: Uint8Array | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.${method.toUpperCase()}.${path}.`);
  mac.update(body);
  return `v1=${mac.digest('hex')}`;
}

/** Why a signed request was refused. */
export type HmacFailure = 'missing_signature' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' | 'replayed' | 'replay_cache_full';

/** Signatures remembered at most, by default: 1,666 signed requests per second at a 300 s tolerance. */
export const DEFAULT_MAX_SIGNATURES = 500_000;

const SIGNATURE = /^v1=[0-9a-f]{64}$/;

/** Checks signatures and remembers the recent ones. */
export class HmacVerifier {
  readonly #secrets: readonly string[];
  readonly #toleranceMs: number;
  readonly #now: () => number;
  /**
   * Signatures accepted and still inside their window, as 16 bytes of the MAC (128 bits: a
   * collision between two honest requests is out of reach, and it halves the memory of the hex).
   */
  readonly #seen = new Set<string>();
  /**
   * The same signatures by the second their timestamp goes stale: a request signed at `ts` is
   * refused as stale from `ts + tolerance` on, so its signature need not be kept past that.
   */
  readonly #expiring = new Map<number, string[]>();
  readonly #maxSeen: number;
  #lastForget = 0;

  /**
   * @param secrets - accepted secrets (several, to rotate them)
   * @param toleranceSec - how far a timestamp may be from now
   * @param options - clock and the most signatures remembered (past it, requests are refused
   * with `replay_cache_full`, a 503: replay protection is never given up)
   */
  constructor(secrets: readonly string[], toleranceSec: number, options: { now?: () => number; maxSeen?: number } = {}) {
    this.#secrets = secrets;
    this.#toleranceMs = toleranceSec * 1000;
    this.#now = options.now ?? Date.now;
    this.#maxSeen = options.maxSeen ?? DEFAULT_MAX_SIGNATURES;
  }

  /** Whether any secret is configured. */
  get enabled(): boolean {
    return this.#secrets.length > 0;
  }

  /** Signatures remembered now. */
  get remembered(): number {
    return this.#seen.size;
  }

  /**
   * The checks that need no body: both headers there, the signature well formed, the timestamp
   * fresh. Run before the body is read, so a request that cannot pass costs no body.
   * @returns undefined when the request may be signed right, else why not
   */
  precheck(timestampHeader: string | undefined, signatureHeader: string | undefined): HmacFailure | undefined {
    if (timestampHeader === undefined || signatureHeader === undefined) return 'missing_signature';
    if (!/^\d{1,12}$/.test(timestampHeader)) return 'bad_timestamp';
    if (Math.abs(this.#now() - Number(timestampHeader) * 1000) > this.#toleranceMs) return 'stale_timestamp';
    if (!SIGNATURE.test(signatureHeader.trim())) return 'bad_signature';
    return undefined;
  }

  /**
   * Verifies a request.
   * @returns undefined when accepted, else why not
   */
  verify(timestampHeader: string | undefined, signatureHeader: string | undefined, method: string, path: string, body: Uint8Array): HmacFailure | undefined {
    const early = this.precheck(timestampHeader, signatureHeader);
    if (early !== undefined) return early;
    const timestamp = Number(timestampHeader);
    const now = this.#now();
    const signature = signatureHeader!.trim();
    const given = Buffer.from(signature, 'utf8');
    let match = false;
    for (const secret of this.#secrets) {
      const expected = Buffer.from(signRequest(secret, timestamp, method, path, body), 'utf8');
      if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
    }
    if (!match) return 'bad_signature';
    this.#forget(now);
    const key = Buffer.from(signature.slice(3, 35), 'hex').toString('latin1');
    if (this.#seen.has(key)) return 'replayed';
    // Full of signatures still inside their window: refusing (503, retry later) keeps replay
    // protection; forgetting one would let its request be replayed.
    if (this.#seen.size >= this.#maxSeen) return 'replay_cache_full';
    this.#seen.add(key);
    const staleAt = timestamp + Math.ceil(this.#toleranceMs / 1000) + 1;
    const bucket = this.#expiring.get(staleAt);
    if (bucket === undefined) this.#expiring.set(staleAt, [key]);
    else bucket.push(key);
    return undefined;
  }

  /** Drops signatures whose timestamps are stale by now (at most once a second: buckets are seconds). */
  #forget(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#lastForget) return;
    this.#lastForget = second;
    for (const [staleAt, keys] of this.#expiring) {
      if (staleAt > second) continue;
      for (const key of keys) this.#seen.delete(key);
      this.#expiring.delete(staleAt);
    }
  }
}

/** Compares a bearer key with the configured ones in constant time per key. */
export function matchesKey(given: string | undefined, keys: readonly string[]): boolean {
  if (given === undefined) return false;
  const g = Buffer.from(given, 'utf8');
  let ok = false;
  for (const key of keys) {
    const k = Buffer.from(key, 'utf8');
    if (k.length === g.length && timingSafeEqual(k, g)) ok = true;
  }
  return ok;
}
