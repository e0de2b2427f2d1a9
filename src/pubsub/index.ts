/**
 * The pub/sub engine: topics, presence, history and recovery, slow-consumer policies. It knows
 * connections only as {@link Subscriber}s and imports nothing from the Node layer; the binding to
 * the Node classes is src/realtime.
 * @packageDocumentation
 */
export { RealtimeError } from './realtime-error.js';
export {
  PubSub,
  type PubSubOptions,
  type TopicOptions,
  type TopicStats,
  type PublishResult,
  type PublishStatus,
  type PublishOptions,
  type SubscribeOptions,
  type SubscribeState,
  type SubscribeTicket,
} from './pubsub.js';
export type { Subscriber } from './subscriber.js';
export { InMemoryAdapter, type ClusterAdapter, type AdapterNode, type Delivery, type PublishReceipt, type PublishIdempotency, type InMemoryAdapterOptions } from './adapter.js';
export { TopicHistory, DEFAULT_HISTORY_LIMITS, type HistoryLimits, type Recovery } from './history.js';
export { Presence, type PresenceChange } from './presence.js';
export { SlowConsumerGate, DEFAULT_MAX_QUEUED_BYTES, type SlowConsumerPolicy, type SlowConsumerCounts } from './slow-consumer.js';
export { TopicMessage, type MessageRecord, type MessageOptions } from './message.js';
