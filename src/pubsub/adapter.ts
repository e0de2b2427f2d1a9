/**
 * The cluster adapter: what makes several server processes one pub/sub system. It gives each
 * topic one order and one sequence of offsets across every node, carries presence across nodes,
 * and keeps history. `InMemoryAdapter` is the embedded default (one process, or several engines
 * in one process sharing it); a networked adapter (Redis, issue 7) implements the same interface.
 *
 * Methods may return promises (a network round trip); the in-memory adapter answers
 * synchronously, and the engine chains results with `after()` so that path creates no promise.
 * @packageDocumentation
 */
import type { PresenceMember, StreamPosition } from '../wire/envelope.js';
import { TopicHistory, type HistoryLimits, type Recovery } from './history.js';
import type { MaybePromise } from './maybe-async.js';
import type { TopicMessage } from './message.js';
import { Presence } from './presence.js';

/** What one node did with one message. */
export interface Delivery {
  /** Subscribers the message was queued for. */
  delivered: number;
  /** Subscribers it was dropped for (`drop` policy). */
  dropped: number;
  /** Subscribers it is held for (`conflate` policy, or a subscription still recovering). */
  held: number;
  /** Subscribers closed because of it (`close` policy). */
  closed: number;
  /**
   * Held messages it replaced (`conflate` policy: an earlier message with the same key, held for a
   * slow subscriber, will never be sent to it).
   */
  conflated: number;
}

/**
 * Adds one node's delivery counts to a total (a publish reaching several nodes, or metrics).
 * @param total - the counts added to, in place
 * @param d - one delivery
 */
export function addDelivery(total: Delivery, d: Readonly<Delivery>): void {
  total.delivered += d.delivered;
  total.dropped += d.dropped;
  total.held += d.held;
  total.closed += d.closed;
  total.conflated += d.conflated;
}

/** The result of a publish through an adapter. */
export interface PublishReceipt {
  /** The topic's epoch. */
  epoch: string;
  /** The offset the message got. */
  offset: number;
  /**
   * What the nodes did with it, when delivery happened before `publish` returned (the in-memory
   * adapter: every node in this process). Undefined when delivery is asynchronous.
   */
  delivery?: Delivery;
}

/**
 * A publish that must be applied once across the cluster (a client's `pub` with an id, which it
 * re-sends after a reconnect, possibly to another node). See docs/cluster.md.
 */
export interface PublishIdempotency {
  /**
   * Who asked and which request: the same key on the same topic within `ttl` is a repeat. The
   * caller scopes it (per user, see session.ts) so that two clients never share one.
   */
  key: string;
  /** Ms the key is remembered. */
  ttl: number;
}

/** A pub/sub engine, as an adapter sees it. */
export interface AdapterNode {
  /**
   * Delivers a message published on any node to this node's subscribers. Called in offset order
   * per topic.
   */
  deliver(message: TopicMessage): Delivery;
  /** A user joined (first connection in the cluster) or left (last one) a topic. */
  presenceChanged(topic: string, event: 'join' | 'leave', member: PresenceMember): void;
  /**
   * Messages of `topic` may have been lost on their way to this node (its broker connection broke,
   * or the broker lost its data), and the adapter could not fill them in: every subscriber must
   * resynchronise (`gap` in the protocol: it resubscribes with `since` and recovers, or learns
   * `recovered: false`). The in-memory adapter never loses messages and never calls it.
   */
  gap(topic: string): void;
}

/** The interface every cluster adapter implements. */
export interface ClusterAdapter {
  /** Connects a node: from now on it receives every message and presence change. */
  attach(node: AdapterNode): void;
  /** Disconnects a node. */
  detach(node: AdapterNode): void;
  /**
   * Gives `message` the topic's next offset and its epoch, appends it to history (within
   * `limits`) and delivers it to every node, this one included, in offset order.
   * @param idempotency - when given, a networked adapter remembers the key with the offset, in
   * the same atomic step as the append, and a repeat of the key (from any node) is neither
   * appended nor delivered again: it gets the first receipt. Optional for adapters: one that
   * ignores it (the in-memory adapter, one process) leaves deduplication to the node's own
   * idempotency cache.
   */
  publish(message: TopicMessage, limits: HistoryLimits, idempotency?: PublishIdempotency): MaybePromise<PublishReceipt>;
  /** The topic's epoch and newest offset (a topic never used gets a fresh epoch at offset 0). */
  position(topic: string, limits: HistoryLimits): MaybePromise<StreamPosition>;
  /** Every message after `from`, or `recovered: false` (see TopicHistory.since). */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): MaybePromise<Recovery>;
  /** Adds a presence connection; every node hears `join` if it is the user's first in the cluster. */
  join(topic: string, member: PresenceMember): MaybePromise<void>;
  /** Removes a presence connection; every node hears `leave` if it was the user's last. */
  leave(topic: string, member: PresenceMember): MaybePromise<void>;
  /** The topic's members across the cluster, one per user. */
  members(topic: string): MaybePromise<PresenceMember[]>;
  /**
   * This node has (`true`) or no longer has (`false`) subscribers for `topic`. A networked
   * adapter subscribes to the topic's channel; the in-memory one keeps its history meanwhile.
   */
  watch(topic: string, active: boolean): void;
  /** Releases timers and connections. */
  close(): MaybePromise<void>;
}

/** Options of {@link InMemoryAdapter}. */
export interface InMemoryAdapterOptions {
  /** The clock (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  /** How often idle, empty histories are forgotten, in ms. Default 30,000. */
  sweepInterval?: number;
}

interface TopicState {
  history: TopicHistory;
  lastUsed: number;
}

const NO_DELIVERY: Readonly<Delivery> = Object.freeze({ delivered: 0, dropped: 0, held: 0, closed: 0, conflated: 0 });

/**
 * The embedded adapter: history and presence in this process, delivery by direct call. Several
 * engines (servers) attached to one instance form a cluster inside one process.
 */
export class InMemoryAdapter implements ClusterAdapter {
  readonly #nodes: AdapterNode[] = [];
  readonly #topics = new Map<string, TopicState>();
  readonly #presence = new Presence();
  /** Nodes with subscribers per topic: a watched topic keeps its history (and epoch) however quiet it is. */
  readonly #watchers = new Map<string, number>();
  readonly #now: () => number;
  readonly #sweepInterval: number;
  #sweeper: NodeJS.Timeout | undefined;

  /** @param options - clock and sweep interval */
  constructor(options: InMemoryAdapterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sweepInterval = options.sweepInterval ?? 30_000;
  }

  /** @inheritDoc */
  attach(node: AdapterNode): void {
    if (!this.#nodes.includes(node)) this.#nodes.push(node);
  }

  /** @inheritDoc */
  detach(node: AdapterNode): void {
    const i = this.#nodes.indexOf(node);
    if (i !== -1) this.#nodes.splice(i, 1);
  }

  #state(topic: string, limits: HistoryLimits): TopicState {
    let state = this.#topics.get(topic);
    if (state === undefined) {
      state = { history: new TopicHistory(limits), lastUsed: this.#now() };
      this.#topics.set(topic, state);
      this.#startSweeper();
    } else if (state.history.limits !== limits) {
      state.history.limits = limits;
    }
    return state;
  }

  /** @inheritDoc */
  publish(message: TopicMessage, limits: HistoryLimits): PublishReceipt {
    const now = this.#now();
    const state = this.#state(message.topic, limits);
    state.lastUsed = now;
    const offset = state.history.append(message, now);
    const nodes = this.#nodes;
    if (nodes.length === 1) return { epoch: message.epoch, offset, delivery: nodes[0]!.deliver(message) };
    const delivery: Delivery = { ...NO_DELIVERY };
    for (const node of nodes) addDelivery(delivery, node.deliver(message));
    return { epoch: message.epoch, offset, delivery };
  }

  /** @inheritDoc */
  position(topic: string, limits: HistoryLimits): StreamPosition {
    return this.#state(topic, limits).history.position();
  }

  /** @inheritDoc */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): Recovery {
    return this.#state(topic, limits).history.since(from.epoch, from.offset, this.#now());
  }

  /** @inheritDoc */
  join(topic: string, member: PresenceMember): void {
    const change = this.#presence.join(topic, member);
    if (change !== undefined) for (const node of [...this.#nodes]) node.presenceChanged(topic, change.event, change.member);
  }

  /** @inheritDoc */
  leave(topic: string, member: PresenceMember): void {
    const change = this.#presence.leave(topic, member.user, member.conn);
    if (change !== undefined) for (const node of [...this.#nodes]) node.presenceChanged(topic, change.event, change.member);
  }

  /** @inheritDoc */
  members(topic: string): PresenceMember[] {
    return this.#presence.members(topic);
  }

  /** @inheritDoc */
  watch(topic: string, active: boolean): void {
    const n = (this.#watchers.get(topic) ?? 0) + (active ? 1 : -1);
    if (n > 0) this.#watchers.set(topic, n);
    else this.#watchers.delete(topic);
    const state = this.#topics.get(topic);
    if (state !== undefined) state.lastUsed = this.#now();
  }

  /** Topics with history kept (for tests and stats). */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Forgets histories that are empty, unwatched and unused for longer than their `maxAge`. */
  sweep(): void {
    const now = this.#now();
    for (const [topic, state] of this.#topics) {
      state.history.trim(now);
      if (!this.#watchers.has(topic) && state.history.size === 0 && now - state.lastUsed > state.history.limits.maxAge) this.#topics.delete(topic);
    }
    if (this.#topics.size === 0) this.#stopSweeper();
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => this.sweep(), this.#sweepInterval);
    this.#sweeper.unref();
  }

  #stopSweeper(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** @inheritDoc */
  close(): void {
    this.#stopSweeper();
    this.#nodes.length = 0;
  }
}
