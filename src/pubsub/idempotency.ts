/**
 * Idempotent `pub` and `req` (docs/realtime-protocol.md): a request retried with the same id
 * after a reconnect is applied once. The outcome of the last 1,000 ids per user (or per
 * connection when there is no user) is kept for 5 minutes, and a repeat gets the same reply. A
 * repeat that arrives while the first is still running waits for its outcome instead of running
 * again. An id reused for a different request (another type, topic or method) is refused.
 * @packageDocumentation
 */
import type { EnvelopeId } from './envelope.js';

/** An encoded reply, as it is sent. */
export type EncodedReply = string | Uint8Array;

/** Options of {@link IdempotencyCache}. */
export interface IdempotencyOptions {
  /** Ids kept per user. Default 1,000. */
  maxPerUser?: number;
  /** Ms an outcome is kept. Default 300,000. */
  ttl?: number;
  /** The clock. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  readonly fingerprint: string;
  readonly time: number;
  reply: EncodedReply | undefined;
  waiters: Array<(reply: EncodedReply) => void> | undefined;
}

/** A claim on an id: run the request, then settle it with its reply. */
export interface Claim {
  /** Stores the reply and sends it to any repeat that waited. */
  settle(reply: EncodedReply): void;
}

/** What {@link IdempotencyCache.claim} found. */
export type ClaimResult =
  | { readonly state: 'run'; readonly claim: Claim }
  | { readonly state: 'replayed' }
  | { readonly state: 'waiting' }
  | { readonly state: 'conflict' };

/** Outcomes of recent requests, per user. */
export class IdempotencyCache {
  readonly #users = new Map<string, Map<string, Entry>>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;

  /** @param options - bounds and clock */
  constructor(options: IdempotencyOptions = {}) {
    this.#max = options.maxPerUser ?? 1000;
    this.#ttl = options.ttl ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Looks `id` up for `user`. A repeat whose outcome is known gets it through `reply` at once;
   * one still running gets it when it settles.
   * @param fingerprint - what the request is ("pub topic", "req method"): the same id for a
   * different request is a conflict, not a repeat
   */
  claim(user: string, id: EnvelopeId, fingerprint: string, reply: (reply: EncodedReply) => void): ClaimResult {
    const now = this.#now();
    let entries = this.#users.get(user);
    if (entries === undefined) {
      entries = new Map<string, Entry>();
      this.#users.set(user, entries);
    }
    // Ids are strings or numbers, and "1" is not 1.
    const key = typeof id === 'number' ? `#${id}` : `$${id}`;
    const found = entries.get(key);
    if (found !== undefined && now - found.time <= this.#ttl) {
      if (found.fingerprint !== fingerprint) return { state: 'conflict' };
      if (found.reply !== undefined) {
        reply(found.reply);
        return { state: 'replayed' };
      }
      (found.waiters ??= []).push(reply);
      return { state: 'waiting' };
    }
    if (found !== undefined) entries.delete(key);
    const entry: Entry = { fingerprint, time: now, reply: undefined, waiters: undefined };
    entries.set(key, entry);
    // Oldest first: Map keeps insertion order.
    while (entries.size > this.#max) entries.delete(entries.keys().next().value!);
    return {
      state: 'run',
      claim: {
        settle: (encoded) => {
          entry.reply = encoded;
          const waiters = entry.waiters;
          entry.waiters = undefined;
          if (waiters !== undefined) for (const w of waiters) w(encoded);
        },
      },
    };
  }

  /** Users with outcomes kept. */
  get users(): number {
    return this.#users.size;
  }

  /** Forgets expired outcomes, and users with none left. */
  sweep(): void {
    const cutoff = this.#now() - this.#ttl;
    for (const [user, entries] of this.#users) {
      for (const [key, entry] of entries) {
        if (entry.time >= cutoff) break; // insertion order is time order
        if (entry.reply !== undefined || entry.waiters === undefined) entries.delete(key);
      }
      if (entries.size === 0) this.#users.delete(user);
    }
  }
}
