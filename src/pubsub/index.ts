/**
 * The real-time layer: topics, presence, history and recovery, slow-consumer policies and the
 * `parley.v1` protocol, on top of the Node layer.
 * @packageDocumentation
 */
export { WebSocketServer, type ServerOptions, type RealtimeOptions, type RealtimeLimits, type ServerPublishOptions } from './realtime-server.js';
export { WebSocket, type SocketSubscribeOptions, type SocketPublishOptions } from './realtime-socket.js';
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
export {
  REALTIME_SUBPROTOCOL,
  RealtimeErrorCode,
  EnvelopeError,
  decodeFrame,
  encodeEnvelope,
  parseClientEnvelope,
  type ClientEnvelope,
  type ServerEnvelope,
  type PresenceMember,
  type StreamPosition,
  type EnvelopeId,
} from './envelope.js';
