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
export type HmacFailure = 'missing_signature' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' | 'replayed';

/** Checks signatures and remembers the recent ones. */
export class HmacVerifier {
  readonly #secrets: readonly string[];
  readonly #toleranceMs: number;
  readonly #now: () => number;
  /** Signatures accepted within the tolerance window, oldest first (Map keeps insertion order). */
  readonly #seen = new Map<string, number>();
  readonly #maxSeen: number;

  /**
   * @param secrets - accepted secrets (several, to rotate them)
   * @param toleranceSec - how far a timestamp may be from now
   * @param options - clock and the most signatures remembered
   */
  constructor(secrets: readonly string[], toleranceSec: number, options: { now?: () => number; maxSeen?: number } = {}) {
    this.#secrets = secrets;
    this.#toleranceMs = toleranceSec * 1000;
    this.#now = options.now ?? Date.now;
    this.#maxSeen = options.maxSeen ?? 100_000;
  }

  /** Whether any secret is configured. */
  get enabled(): boolean {
    return this.#secrets.length > 0;
  }

  /**
   * Verifies a request.
   * @returns undefined when accepted, else why not
   */
  verify(timestampHeader: string | undefined, signatureHeader: string | undefined, method: string, path: string, body: Uint8Array): HmacFailure | undefined {
    if (timestampHeader === undefined || signatureHeader === undefined) return 'missing_signature';
    if (!/^\d{1,12}$/.test(timestampHeader)) return 'bad_timestamp';
    const timestamp = Number(timestampHeader);
    const now = this.#now();
    if (Math.abs(now - timestamp * 1000) > this.#toleranceMs) return 'stale_timestamp';
    const given = Buffer.from(signatureHeader.trim(), 'utf8');
    let match = false;
    for (const secret of this.#secrets) {
      const expected = Buffer.from(signRequest(secret, timestamp, method, path, body), 'utf8');
      if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
    }
    if (!match) return 'bad_signature';
    this.#forget(now);
    const key = signatureHeader.trim();
    if (this.#seen.has(key)) return 'replayed';
    if (this.#seen.size >= this.#maxSeen) {
      // Full of signatures still inside the window: refusing is safer than forgetting one.
      return 'replayed';
    }
    this.#seen.set(key, now);
    return undefined;
  }

  /** Drops signatures older than the window: their timestamps are refused as stale anyway. */
  #forget(now: number): void {
    for (const [key, at] of this.#seen) {
      if (now - at <= 2 * this.#toleranceMs) break;
      this.#seen.delete(key);
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
