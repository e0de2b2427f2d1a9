/**
 * What goes in and out of the pub/sub engine (`PubSub`): its options, a topic's settings,
 * publish and subscribe options and results, and a topic's counters.
 * @packageDocumentation
 */
import type { FrameEncoder, PreparedFrame } from '../protocol/prepared-frame.js';
import type { ClusterAdapter, PublishIdempotency } from './adapter.js';
import type { PresenceMember, StreamPosition } from '../wire/envelope.js';
import type { HistoryLimits } from './history.js';
import type { MaybePromise } from './maybe-async.js';
import type { MessageOptions } from './message.js';
import type { SlowConsumerPolicy } from './slow-consumer.js';
import type { Subscriber } from './subscriber.js';

/** Per-topic settings, returned by the `topics` option for each topic name. */
export interface TopicOptions {
  /** What to do with a subscriber over its byte cap. Default `'drop'`. */
  policy?: SlowConsumerPolicy;
  /** Byte cap per subscriber (its `bufferedAmount`). Default 1 MiB. */
  maxQueuedBytes?: number;
  /** History bounds for this topic, or `false` to keep none. Default: the server's. */
  history?: Partial<HistoryLimits> | false;
}

/** Options of `PubSub`; `F` is the type of the frames its encoder makes. */
export interface PubSubOptions<F extends PreparedFrame = PreparedFrame> {
  /** The cluster adapter. Default: a new `InMemoryAdapter`. */
  adapter?: ClusterAdapter;
  /** Default history bounds (1,000 messages, 5 minutes). */
  history?: Partial<HistoryLimits>;
  /** Per-topic settings; called once per topic while it is in use. */
  topics?: (topic: string) => TopicOptions | undefined;
  /** Presence changes (`join` on a user's first connection, `leave` on their last). */
  onPresence?: (topic: string, event: 'join' | 'leave', member: PresenceMember) => void;
  /** Failures that have no caller to return to (an asynchronous adapter, a presence listener). */
  onError?: (error: unknown) => void;
  /** How often subscribers holding conflated messages are checked for room, in ms. Default 50. */
  drainCheckInterval?: number;
  /**
   * Makes the frames subscribers get, each once per message. Default: the protocol core's
   * (`Uint8Array`s); the real-time server and the `PubSub` exported by 'parley' pass the Node
   * layer's, whose frames are pooled `Buffer`s.
   */
  encoder?: FrameEncoder<F>;
}

/** How a publish went. */
export type PublishStatus = 'ok' | 'backpressure' | 'dropped';

/** The result of a publish. */
export interface PublishResult {
  /**
   * `ok`: queued for every subscriber. `backpressure`: held for at least one subscriber over its
   * cap (conflation, or a subscription still recovering). `dropped`: at least one subscriber did
   * not get it (`drop` policy) or was closed (`close` policy).
   */
  status: PublishStatus;
  /** The message's offset in its topic; -1 while an asynchronous adapter has not assigned it. */
  offset: number;
  /** Subscribers it was queued for (on every node of an in-memory cluster). */
  delivered: number;
}

/** Options of a publish. */
export interface PublishOptions extends MessageOptions {
  /** A plain subscriber not to deliver to (the sender). `parley.v1` subscribers are never skipped: see docs/realtime.md. */
  except?: Subscriber | undefined;
  /**
   * Apply this publish once across the cluster: a repeat of the key (within its ttl, on the same
   * topic) is not published again and gets the first publish's offset. Kept by networked
   * adapters (Redis); the in-memory adapter ignores it. See {@link PublishIdempotency}.
   */
  idempotency?: PublishIdempotency | undefined;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Resume after this position: the missed messages are sent first, if history still has them. */
  since?: StreamPosition | undefined;
  /** Join the topic's presence as this user with this info once the subscription is live. */
  presence?: { user: string; info?: unknown } | undefined;
  /**
   * Buffer live messages until `PubSub.activate` (the caller has something to send first,
   * such as `subok`). Default false: live at once.
   */
  hold?: boolean;
}

/** Where a new subscription starts. */
export interface SubscribeState {
  /** The topic's epoch. */
  epoch: string;
  /** The newest offset when the subscription started. */
  offset: number;
  /** With `since`: whether every missed message will be sent. Undefined without `since`. */
  recovered: boolean | undefined;
}

/** What `PubSub.subscribe` returns at once. */
export interface SubscribeTicket {
  /** False when `sub` was already subscribed (the call re-synchronised it). */
  added: boolean;
  /** The starting position, when the adapter has answered. */
  ready: MaybePromise<SubscribeState>;
}

/** Counts for one topic on this node. */
export interface TopicStats {
  topic: string;
  /** Subscribers on this node. */
  subscribers: number;
  /** Messages delivered through this node since the topic was last idle. */
  published: number;
  /** Deliveries queued. */
  delivered: number;
  policy: SlowConsumerPolicy;
  maxQueuedBytes: number;
  /** Deliveries dropped by the `drop` policy. */
  dropped: number;
  /** Messages replaced under `conflate` (never sent to that subscriber). */
  conflated: number;
  /** Subscribers closed by the `close` policy. */
  closed: number;
  /** Subscribers holding conflated messages now. */
  holding: number;
}
