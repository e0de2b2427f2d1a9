/**
 * Per-topic history: the newest messages, bounded by count and by age, with monotonic offsets
 * and an epoch. A subscriber that comes back with `(epoch, offset)` gets exactly the messages
 * after that offset, or learns that they are gone (docs/realtime-protocol.md, "Offsets, epochs
 * and recovery"). Never a silent gap: anything short of every missed message is "cannot recover".
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '../wire/envelope.js';
import type { TopicMessage } from './message.js';

/** How much history a topic keeps. */
export interface HistoryLimits {
  /** Most messages kept. 0 keeps none (a subscriber can then only resume from the newest offset). */
  maxCount: number;
  /** Milliseconds a message is kept. */
  maxAge: number;
}

/** Defaults: the last 1,000 messages of the last 5 minutes. */
export const DEFAULT_HISTORY_LIMITS: Readonly<HistoryLimits> = Object.freeze({ maxCount: 1000, maxAge: 5 * 60_000 });

/** The outcome of a recovery request. */
export type Recovery =
  | { readonly recovered: true; readonly messages: readonly TopicMessage[]; readonly position: StreamPosition }
  | { readonly recovered: false; readonly position: StreamPosition };

/**
 * Validates history limits and fills in defaults.
 * @throws RangeError for a negative or non-numeric limit
 */
export function resolveHistoryLimits(limits: Partial<HistoryLimits> | false | undefined, base: Readonly<HistoryLimits> = DEFAULT_HISTORY_LIMITS): HistoryLimits {
  if (limits === false) return { maxCount: 0, maxAge: base.maxAge };
  const maxCount = limits?.maxCount ?? base.maxCount;
  const maxAge = limits?.maxAge ?? base.maxAge;
  if (typeof maxCount !== 'number' || !Number.isInteger(maxCount) || maxCount < 0) throw new RangeError(`history.maxCount must be a non-negative integer, got ${String(maxCount)}`);
  if (typeof maxAge !== 'number' || Number.isNaN(maxAge) || maxAge < 0) throw new RangeError(`history.maxAge must be a non-negative number of ms, got ${String(maxAge)}`);
  return { maxCount, maxAge };
}

/** A fresh epoch: 72 random bits, URL-safe (12 characters, well under the protocol's 64). */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

/** One topic's history. */
export class TopicHistory {
  /** Changes only when a new history object replaces this one (history started over). */
  readonly epoch: string;
  #limits: HistoryLimits;
  /** Offset of the newest message ever appended (0: none yet). */
  #offset = 0;
  /**
   * Messages oldest first from `#head`. Trimming advances `#head` instead of shifting, and the
   * array is compacted once the dead prefix is large, so append and trim are O(1) amortised.
   */
  #entries: Array<TopicMessage | undefined> = [];
  #head = 0;

  /**
   * @param limits - count and age bounds
   * @param epoch - fixed epoch (tests, or an adapter restoring state); random by default
   */
  constructor(limits: HistoryLimits, epoch: string = newEpoch()) {
    this.#limits = limits;
    this.epoch = epoch;
  }

  /** The bounds in force. */
  get limits(): HistoryLimits {
    return this.#limits;
  }

  /** Changes the bounds; the next append or trim applies them. */
  set limits(limits: HistoryLimits) {
    this.#limits = limits;
  }

  /** The newest offset (0 before the first message). */
  get offset(): number {
    return this.#offset;
  }

  /** Where the topic is now. */
  position(): StreamPosition {
    return { epoch: this.epoch, offset: this.#offset };
  }

  /** Messages currently kept. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** The oldest message kept, if any. */
  get oldest(): TopicMessage | undefined {
    return this.#entries[this.#head];
  }

  /**
   * Assigns the next offset and this epoch to `message`, stamps it with `now` and keeps it
   * (within the bounds).
   * @returns the message's offset
   */
  append(message: TopicMessage, now: number): number {
    const offset = ++this.#offset;
    message.epoch = this.epoch;
    message.offset = offset;
    message.time = now;
    if (this.#limits.maxCount > 0) {
      this.#entries.push(message);
      if (this.size > this.#limits.maxCount) this.#drop(1);
    }
    this.trim(now);
    return offset;
  }

  /** Drops messages older than `maxAge` (at `now`). */
  trim(now: number): void {
    const cutoff = now - this.#limits.maxAge;
    let n = 0;
    for (let i = this.#head; i < this.#entries.length && this.#entries[i]!.time < cutoff; i++) n++;
    if (n > 0) this.#drop(n);
  }

  #drop(n: number): void {
    for (let i = 0; i < n; i++) this.#entries[this.#head++] = undefined;
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * The messages after `offset` in `epoch`: all of them, in order, or `recovered: false` when
   * the epoch differs, the offset is in the future, or any of them is no longer kept.
   * @param now - the clock, for the age bound
   */
  since(epoch: string, offset: number, now: number): Recovery {
    this.trim(now);
    const position = this.position();
    if (epoch !== this.epoch || !Number.isSafeInteger(offset) || offset < 0 || offset > this.#offset) return { recovered: false, position };
    if (offset === this.#offset) return { recovered: true, messages: [], position };
    const oldest = this.oldest;
    // Offsets in history are contiguous, so the first missed one is kept iff the oldest kept is at or before it.
    if (oldest === undefined || oldest.offset > offset + 1) return { recovered: false, position };
    const start = this.#head + (offset + 1 - oldest.offset);
    return { recovered: true, messages: this.#entries.slice(start) as TopicMessage[], position };
  }
}
