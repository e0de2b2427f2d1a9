/**
 * The server's limits: token buckets for the per-connection message rate and the per-address
 * connection rate, and the close codes and HTTP statuses they answer with.
 * @packageDocumentation
 */

import { CloseCode } from '../protocol/constants.js';

/** Close codes and HTTP statuses the server uses, in one place for the docs and the tests. */
export const LimitCode = {
  /** Message rate exceeded, or any other policy: close 1008 (RFC 6455 §7.4.1). */
  policy: CloseCode.PolicyViolation,
  /** Message larger than `limits.maxMessageBytes`: close 1009. */
  tooBig: CloseCode.MessageTooBig,
  /** Handshake refused because `limits.maxConnections` are open: HTTP 503 with Retry-After. */
  fullStatus: 503,
  /** Handshake refused because the address opens connections too fast: HTTP 429 with Retry-After. */
  rateStatus: 429,
  /** Handshake refused while shutting down: HTTP 503. */
  shuttingDownStatus: 503,
} as const;

/**
 * A token bucket: `burst` tokens, refilled at `rate` per second. `take()` spends one. A rate of 0
 * means unlimited.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  /**
   * @param rate - tokens per second (0: unlimited)
   * @param burst - bucket size
   * @param now - the clock in ms
   */
  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Spends a token if there is one. */
  take(now: number): boolean {
    if (this.rate === 0) return true;
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket is full (its owner can be forgotten). */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst;
  }

  /** Seconds until a token is available. */
  wait(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 || this.rate === 0 ? 0 : (1 - this.#tokens) / this.rate;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
  }
}

/**
 * Per-address connection rate. Buckets are kept only while they are not full, and at most
 * `maxAddresses` of them: past that the oldest are forgotten (a flood from many addresses cannot
 * grow memory without bound).
 */
export class AddressRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #now: () => number;
  #sweeps = 0;

  /**
   * @param rate - connections per second per address (0: unlimited)
   * @param burst - connections at once
   * @param options - clock and bound
   */
  constructor(readonly rate: number, readonly burst: number, readonly options: { now?: () => number; maxAddresses?: number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Counts one connection attempt from `address`.
   * @returns 0 when allowed, else the seconds to wait (for Retry-After)
   */
  attempt(address: string): number {
    if (this.rate === 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      if (this.#buckets.size >= (this.options.maxAddresses ?? 100_000)) this.#sweep(now, true);
      bucket = new TokenBucket(this.rate, this.burst, now);
      this.#buckets.set(address, bucket);
    }
    if ((++this.#sweeps & 1023) === 0) this.#sweep(now, false);
    return bucket.take(now) ? 0 : Math.max(1, Math.ceil(bucket.wait(now)));
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number, force: boolean): void {
    for (const [address, bucket] of this.#buckets) {
      if (bucket.full(now)) this.#buckets.delete(address);
    }
    if (force && this.#buckets.size >= (this.options.maxAddresses ?? 100_000)) {
      const first = this.#buckets.keys().next();
      if (first.done !== true) this.#buckets.delete(first.value);
    }
  }
}

/**
 * How many proxies in front of the server append to `X-Forwarded-For`: `false` or 0 trusts none
 * (the socket's address), `true` is one, a number is that many.
 */
export type TrustProxy = boolean | number;

/**
 * The client address of a request. Behind `hops` trusted proxies it is the entry `hops` places
 * from the right of `X-Forwarded-For`: each proxy appends the address it received from, so the
 * rightmost entries are written by the proxies and everything to their left by whoever sent the
 * request — a client can put anything there (nginx's `$proxy_add_x_forwarded_for` keeps what the
 * client sent). With fewer entries than hops, the leftmost is the best there is. Without a
 * trusted proxy, or without a usable header, it is the socket's address.
 */
export function clientAddress(req: { headers: Record<string, string | string[] | undefined>; socket: { remoteAddress?: string | undefined } }, trustProxy: TrustProxy): string {
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
  if (hops > 0) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    if (value !== undefined && value.length <= 4096) {
      const entries = value.split(',');
      const entry = entries[Math.max(0, entries.length - hops)]?.trim();
      if (entry !== undefined && entry !== '' && entry.length <= 64) return entry;
    }
  }
  return req.socket.remoteAddress ?? 'unknown';
}
