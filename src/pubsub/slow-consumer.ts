/**
 * Slow consumers (bad-input guide §19): a subscriber that stops reading must not make the server
 * queue without bound or slow anyone else down. Each topic caps the bytes queued per subscriber
 * (`maxQueuedBytes`) and, past the cap, applies its policy:
 *
 * - `drop`: the message is not queued for that subscriber, and counted. A `parley.v1` client sees
 *   the jump in offsets and recovers from history when it catches up; a plain client just misses it.
 * - `conflate`: only the latest message per conflation key is kept while the subscriber is over
 *   the cap, and delivered when it drains (the current price of an item matters, not every step).
 * - `close`: the connection is closed with 1008 (policy violation).
 * @packageDocumentation
 */
import type { TopicMessage } from './message.js';
import type { Subscriber } from './subscriber.js';

/** What happens to a subscriber over its byte cap. */
export type SlowConsumerPolicy = 'drop' | 'conflate' | 'close';

/** The policies, for validation. */
export const SLOW_CONSUMER_POLICIES: readonly SlowConsumerPolicy[] = ['drop', 'conflate', 'close'];

/** Default byte cap per subscriber: 1 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** What happened to one delivery. */
export type DeliveryOutcome = 'sent' | 'dropped' | 'held' | 'closed';

/** Per-topic counts of what the policy did. */
export interface SlowConsumerCounts {
  /** Deliveries not made under `drop`. */
  dropped: number;
  /** Messages replaced by a later one with the same key under `conflate`, so never sent. */
  conflated: number;
  /** Subscribers closed (1008) under `close`. */
  closed: number;
}

/** How the gate reaches the engine. */
export interface GateHooks {
  /** Sends `message` to `sub`; `conflated` when earlier messages of the batch were replaced. */
  send(sub: Subscriber, message: TopicMessage, conflated: boolean): void;
  /** Closes `sub` (the `close` policy) and removes it from every topic. */
  close(sub: Subscriber): void;
  /** `sub` now has held messages: watch for it to drain. */
  held(sub: Subscriber): void;
}

/** Messages held for one subscriber, latest per key, in the order they last arrived. */
interface Held {
  messages: Map<string | undefined, TopicMessage>;
  /** Some message was replaced: the batch skips offsets, which `msg` envelopes must say. */
  superseded: boolean;
}

/**
 * Validates a policy and byte cap.
 * @throws TypeError for an unknown policy; RangeError for a cap that is not a positive number
 */
export function resolveSlowConsumer(policy: unknown, maxQueuedBytes: unknown): { policy: SlowConsumerPolicy; maxQueuedBytes: number } {
  const p = policy ?? 'drop';
  if (!SLOW_CONSUMER_POLICIES.includes(p as SlowConsumerPolicy)) throw new TypeError(`policy must be 'drop', 'conflate' or 'close', got ${JSON.stringify(p)}`);
  const cap = maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  if (typeof cap !== 'number' || Number.isNaN(cap) || cap <= 0) throw new RangeError(`maxQueuedBytes must be a positive number, got ${JSON.stringify(cap)}`);
  return { policy: p as SlowConsumerPolicy, maxQueuedBytes: cap };
}

/** One topic's slow-consumer policy, applied to every delivery. */
export class SlowConsumerGate {
  /** The policy. */
  readonly policy: SlowConsumerPolicy;
  /** The byte cap per subscriber. */
  readonly maxQueuedBytes: number;
  /** What the policy did so far. */
  readonly counts: SlowConsumerCounts = { dropped: 0, conflated: 0, closed: 0 };
  readonly #hooks: GateHooks;
  #held: Map<Subscriber, Held> | undefined;

  /**
   * @param policy - what to do past the cap
   * @param maxQueuedBytes - the cap, compared with `bufferedAmount`
   * @param hooks - how to send, close and watch for drains
   */
  constructor(policy: SlowConsumerPolicy, maxQueuedBytes: number, hooks: GateHooks) {
    this.policy = policy;
    this.maxQueuedBytes = maxQueuedBytes;
    this.#hooks = hooks;
  }

  /** Subscribers with held messages. */
  get heldSubscribers(): number {
    return this.#held?.size ?? 0;
  }

  /** Whether `sub` has held messages. */
  isHolding(sub: Subscriber): boolean {
    return this.#held?.has(sub) === true;
  }

  /**
   * Delivers `message` to `sub` if it is under the cap; applies the policy otherwise.
   * The common case (nothing held, under the cap) is one map lookup and one comparison.
   */
  offer(sub: Subscriber, message: TopicMessage): DeliveryOutcome {
    const held = this.#held?.get(sub);
    if (held !== undefined) return this.#hold(sub, message, held);
    if (sub.bufferedAmount < this.maxQueuedBytes) {
      this.#hooks.send(sub, message, false);
      return 'sent';
    }
    switch (this.policy) {
      case 'drop':
        this.counts.dropped++;
        return 'dropped';
      case 'close':
        this.counts.closed++;
        this.#hooks.close(sub);
        return 'closed';
      default:
        return this.#hold(sub, message, undefined);
    }
  }

  #hold(sub: Subscriber, message: TopicMessage, held: Held | undefined): DeliveryOutcome {
    if (held === undefined) {
      held = { messages: new Map(), superseded: false };
      (this.#held ??= new Map()).set(sub, held);
      held.messages.set(message.key, message);
      this.#hooks.held(sub);
      return 'held';
    }
    // Deleted first so the map's order stays the order in which the kept messages arrived (offset order).
    if (held.messages.delete(message.key)) {
      this.counts.conflated++;
      held.superseded = true;
    }
    held.messages.set(message.key, message);
    return this.flush(sub) ? 'sent' : 'held';
  }

  /**
   * Sends what is held for `sub` once it is under the cap again.
   * @returns true when nothing is held any more
   */
  flush(sub: Subscriber): boolean {
    const held = this.#held?.get(sub);
    if (held === undefined) return true;
    if (sub.bufferedAmount >= this.maxQueuedBytes) return false;
    this.#held!.delete(sub);
    for (const message of held.messages.values()) this.#hooks.send(sub, message, held.superseded);
    return true;
  }

  /**
   * Flushes every subscriber that drained.
   * @returns how many still hold messages
   */
  flushDrained(): number {
    const held = this.#held;
    if (held === undefined) return 0;
    for (const sub of held.keys()) this.flush(sub);
    return held.size;
  }

  /** Forgets what is held for `sub` (it unsubscribed or closed). */
  remove(sub: Subscriber): void {
    this.#held?.delete(sub);
  }
}
