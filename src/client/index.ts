/**
 * The browser client of Parley's real-time protocol (`parley.v1`): dependency-free, an ES
 * module for browsers that also runs in Node (with Parley's `WebSocket`).
 *
 * `import { ParleyClient } from 'parley/client'`
 * @packageDocumentation
 */
export {
  ParleyClient,
  type ParleyClientOptions,
  type SubscribeOptions,
  type PublishOptions,
  type RequestOptions,
  type TokenSource,
  type ClientState,
  type ClientEvents,
  type ClientStats,
  type OpenInfo,
  type CloseInfo,
} from './client.js';
export { Subscription, type SubscriptionEvents, type MessageHandler, type MessageInfo, type SubscribedInfo } from './subscription.js';
export { Emitter, type EventMap, type Listener } from './emitter.js';
export { ParleyError, ParleyClientError, ClientErrorCode } from './errors.js';
export { backoffDelay, resolveBackoff, DEFAULT_RECONNECT, type ReconnectOptions, type BackoffPolicy } from './backoff.js';
export { systemClock, type Clock } from './clock.js';
export type { WebSocketLike, WebSocketConstructor, SocketEvent } from './socket.js';
export type { StreamPosition, PresenceMember, EnvelopeLimits } from '../wire/envelope.js';
