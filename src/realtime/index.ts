/**
 * The real-time binding: where the pub/sub engine meets the Node layer. The real-time
 * `WebSocketServer` and `WebSocket` (the `ws` 8 API plus topics, presence, recovery and the
 * `parley.v1` protocol) and the engine with the Node layer's frames.
 * @packageDocumentation
 */
export { WebSocketServer, type ServerOptions, type RealtimeOptions, type RealtimeLimits, type ServerPublishOptions } from './realtime-server.js';
export { WebSocket, type SocketSubscribeOptions, type SocketPublishOptions } from './realtime-socket.js';
export { PubSub, type PubSubOptions, type Subscriber } from './node-pubsub.js';
