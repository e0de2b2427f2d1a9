/**
 * A cluster adapter wrapper that counts what passes through it: every publish of this server, and
 * what this server's engine did with every delivery (queued, dropped, held, replaced by conflation, closed). It sits
 * between the engine and the real adapter, so the counts cover clients, the HTTP API and apps
 * alike without touching the real-time layer.
 * @packageDocumentation
 */
import type { AdapterNode, ClusterAdapter, Delivery, HistoryLimits, PresenceMember, PublishIdempotency, PublishReceipt, Recovery, StreamPosition, TopicMessage } from '../index.js';
import type { Totals } from './metrics.js';

type MaybePromise<T> = T | Promise<T>;

/** Counts publishes and deliveries into `totals`, forwarding everything to `inner`. */
export class MeteredAdapter implements ClusterAdapter {
  readonly #inner: ClusterAdapter;
  readonly #totals: Totals;
  readonly #nodes = new Map<AdapterNode, AdapterNode>();

  /**
   * @param inner - the real adapter (shared with other servers or not)
   * @param totals - where to count
   */
  constructor(inner: ClusterAdapter, totals: Totals) {
    this.#inner = inner;
    this.#totals = totals;
  }

  /** The wrapped adapter. */
  get inner(): ClusterAdapter {
    return this.#inner;
  }

  /** @inheritDoc */
  attach(node: AdapterNode): void {
    const totals = this.#totals;
    const wrapped: AdapterNode = {
      deliver(message: TopicMessage): Delivery {
        const d = node.deliver(message);
        totals.deliveries += d.delivered;
        totals.dropped += d.dropped;
        totals.held += d.held;
        totals.closed += d.closed;
        totals.conflated += d.conflated;
        return d;
      },
      presenceChanged(topic: string, event: 'join' | 'leave', member: PresenceMember): void {
        node.presenceChanged(topic, event, member);
      },
      gap(topic: string): void {
        node.gap(topic);
      },
    };
    this.#nodes.set(node, wrapped);
    this.#inner.attach(wrapped);
  }

  /** @inheritDoc */
  detach(node: AdapterNode): void {
    const wrapped = this.#nodes.get(node);
    if (wrapped === undefined) return;
    this.#nodes.delete(node);
    this.#inner.detach(wrapped);
  }

  /** @inheritDoc */
  publish(message: TopicMessage, limits: HistoryLimits, idempotency?: PublishIdempotency): MaybePromise<PublishReceipt> {
    this.#totals.publishes++;
    return idempotency === undefined ? this.#inner.publish(message, limits) : this.#inner.publish(message, limits, idempotency);
  }

  /** @inheritDoc */
  position(topic: string, limits: HistoryLimits): MaybePromise<StreamPosition> {
    return this.#inner.position(topic, limits);
  }

  /** @inheritDoc */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): MaybePromise<Recovery> {
    return this.#inner.since(topic, from, limits);
  }

  /** @inheritDoc */
  join(topic: string, member: PresenceMember): MaybePromise<void> {
    return this.#inner.join(topic, member);
  }

  /** @inheritDoc */
  leave(topic: string, member: PresenceMember): MaybePromise<void> {
    return this.#inner.leave(topic, member);
  }

  /** @inheritDoc */
  members(topic: string): MaybePromise<PresenceMember[]> {
    return this.#inner.members(topic);
  }

  /** @inheritDoc */
  watch(topic: string, active: boolean): void {
    this.#inner.watch(topic, active);
  }

  /** Closing is the owner's business (the real adapter may be shared): this does nothing. */
  close(): void {}
}
