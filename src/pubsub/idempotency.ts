/**
 * Idempotent `pub` and `req` (docs/realtime-protocol.md): a request retried with the same id
 * after a reconnect is applied once. The outcome of the last 1,000 ids per user (or per
 * connection when there is no user) is kept for 5 minutes, and a repeat gets the same reply. A
 * repeat that arrives while the first is still running waits for its outcome instead of running
 * again. An id reused for a different request (another type, topic or method) is refused.
 *
 * The cache is bounded in total, not only per user: every client can make up new ids (and an
 * anonymous client a new "user" per connection), so past `maxEntries` ids or `maxBytes` of
 * accounted memory the oldest outcomes, of any user, are forgotten first. A forgotten outcome
 * only means a retry of that id runs again. Refusals are not kept at all ({@link Claim.release}).
 * @packageDocumentation
 */
import type { EnvelopeId } from '../wire/envelope.js';

/** An encoded reply, as it is sent. */
export type EncodedReply = string | Uint8Array;

/** Options of {@link IdempotencyCache}. */
export interface IdempotencyOptions {
  /** Ids kept per user. Default 1,000. */
  maxPerUser?: number;
  /** Ms an outcome is kept. Default 300,000. */
  ttl?: number;
  /** Ids kept in total, every user together. Default 50,000. */
  maxEntries?: number;
  /**
   * Bytes kept in total: the replies plus {@link ENTRY_OVERHEAD} per id (what a kept id costs in
   * the heap besides its reply, measured). Default 8 MiB.
   */
  maxBytes?: number;
  /** The clock. Default `Date.now`. */
  now?: () => number;
}

/** Heap bytes an id costs besides its reply (map slots, the entry, its key and fingerprint strings). */
export const ENTRY_OVERHEAD = 320;

interface Entry {
  readonly user: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly time: number;
  reply: EncodedReply | undefined;
  waiters: Array<(reply: EncodedReply) => void> | undefined;
  /** Bytes accounted for it while kept. */
  bytes: number;
  /** Still in the cache (false once forgotten, evicted or released). */
  kept: boolean;
}

/** A claim on an id: run the request, then settle it with its reply. */
export interface Claim {
  /** Stores the reply and sends it to any repeat that waited. */
  settle(reply: EncodedReply): void;
  /**
   * Sends the reply to any repeat that waited, and forgets the id: for refusals and failures,
   * which cost the client nothing to cause and must not fill the cache; a retry runs again.
   */
  release(reply: EncodedReply): void;
}

/** What {@link IdempotencyCache.claim} found. */
export type ClaimResult =
  | { readonly state: 'run'; readonly claim: Claim }
  | { readonly state: 'replayed' }
  | { readonly state: 'waiting' }
  | { readonly state: 'conflict' };

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 1)) throw new RangeError(`idempotency.${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** Outcomes of recent requests, per user, bounded per user and in total. */
export class IdempotencyCache {
  readonly #users = new Map<string, Map<string, Entry>>();
  /** Every kept entry, oldest first (a Set keeps insertion order): what goes first when over budget. */
  readonly #order = new Set<Entry>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;

  /**
   * @param options - bounds and clock
   * @throws RangeError for a bound that is not a positive number
   */
  constructor(options: IdempotencyOptions = {}) {
    this.#max = positive('maxPerUser', options.maxPerUser, 1000);
    this.#ttl = positive('ttl', options.ttl, 300_000);
    this.#maxEntries = positive('maxEntries', options.maxEntries, 50_000);
    this.#maxBytes = positive('maxBytes', options.maxBytes, 8 * 1024 * 1024);
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
    // Ids are strings or numbers, and "1" is not 1.
    const key = typeof id === 'number' ? `#${id}` : `$${id}`;
    const found = entries?.get(key);
    if (found !== undefined && now - found.time <= this.#ttl) {
      if (found.fingerprint !== fingerprint) return { state: 'conflict' };
      if (found.reply !== undefined) {
        reply(found.reply);
        return { state: 'replayed' };
      }
      (found.waiters ??= []).push(reply);
      return { state: 'waiting' };
    }
    if (found !== undefined) this.#remove(found);
    if (entries === undefined || !this.#users.has(user)) {
      entries = new Map<string, Entry>();
      this.#users.set(user, entries);
    }
    const entry: Entry = { user, key, fingerprint, time: now, reply: undefined, waiters: undefined, bytes: ENTRY_OVERHEAD + key.length + fingerprint.length, kept: true };
    entries.set(key, entry);
    this.#order.add(entry);
    this.#bytes += entry.bytes;
    // Oldest first: Map keeps insertion order.
    while (entries.size > this.#max) this.#remove(entries.values().next().value!);
    this.#trim();
    const deliver = (encoded: EncodedReply): void => {
      const waiters = entry.waiters;
      entry.waiters = undefined;
      if (waiters !== undefined) for (const w of waiters) w(encoded);
    };
    return {
      state: 'run',
      claim: {
        settle: (encoded) => {
          if (entry.kept) {
            entry.reply = encoded;
            const size = typeof encoded === 'string' ? encoded.length : encoded.byteLength;
            entry.bytes += size;
            this.#bytes += size;
          }
          deliver(encoded);
          this.#trim();
        },
        release: (encoded) => {
          if (entry.kept) this.#remove(entry);
          deliver(encoded);
        },
      },
    };
  }

  /** Ms an outcome is kept (a networked adapter keeps a `pub` id cluster-wide as long). */
  get ttl(): number {
    return this.#ttl;
  }

  /** Users with outcomes kept. */
  get users(): number {
    return this.#users.size;
  }

  /** Ids kept, every user together. */
  get size(): number {
    return this.#order.size;
  }

  /** Bytes accounted for the ids kept (see {@link IdempotencyOptions.maxBytes}). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Forgets every outcome of `user`: for a connection that stood in for its user (no user known),
   * whose ids no one can retry once it has closed.
   */
  forget(user: string): void {
    const entries = this.#users.get(user);
    if (entries === undefined) return;
    for (const entry of entries.values()) {
      entry.kept = false;
      this.#order.delete(entry);
      this.#bytes -= entry.bytes;
    }
    this.#users.delete(user);
  }

  /** Forgets expired outcomes, and users with none left. */
  sweep(): void {
    const cutoff = this.#now() - this.#ttl;
    for (const entry of this.#order) {
      if (entry.time >= cutoff) break; // insertion order is time order
      if (entry.reply !== undefined || entry.waiters === undefined) this.#remove(entry);
    }
  }

  /** Forgets the oldest outcomes, of any user, until the totals are within budget. */
  #trim(): void {
    while (this.#order.size > this.#maxEntries || (this.#bytes > this.#maxBytes && this.#order.size > 0)) {
      this.#remove(this.#order.values().next().value!);
    }
  }

  #remove(entry: Entry): void {
    if (!entry.kept) return;
    entry.kept = false;
    this.#order.delete(entry);
    this.#bytes -= entry.bytes;
    const entries = this.#users.get(entry.user);
    if (entries?.get(entry.key) === entry) {
      entries.delete(entry.key);
      if (entries.size === 0) this.#users.delete(entry.user);
    }
  }
}
