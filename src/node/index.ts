/**
 * The Node layer: `WebSocket` and `WebSocketServer` with the API of `ws` 8.
 * @packageDocumentation
 */
export { WebSocket, type BinaryType, type SendOptions, type SendCallback, type RawData } from './websocket.js';
export { WebSocketServer } from './websocket-server.js';
export type { ServerOptions, VerifyClient } from './server-options.js';
export type { VerifyClientInfo } from './ws-types.js';
export type { ClientOptions } from './websocket.js';
export { PreparedMessage, prepareMessage } from './prepared-message.js';
export { PreparedCompressedMessage, prepareCompressedFrame, type PrepareOptions } from './prepared-compressed.js';
export type { PerMessageDeflateOptions } from './deflate-options.js';
export type { ConnectionOptions, HeartbeatOptions, BufferOverflowPolicy } from './settings.js';
export { WsEvent, WsMessageEvent, WsCloseEvent, WsErrorEvent, type EventListenerLike } from './events.js';
export { onExtendedConnect, type ExtendedConnectListener } from './http2-server.js';
export type { Http2ClientOptions } from './client-http2.js';
export { WebSocketStream, WebSocketError, type WebSocketStreamOptions, type WebSocketOpenInfo, type WebSocketCloseInfo } from './websocket-stream.js';
export { createWebSocketStream } from './stream.js';
export type {
  Data, CertMeta, ReadyState, VerifyClientCallbackSync, VerifyClientCallbackAsync, EventListenerOptions, AddressInfo, BivariantCallback,
} from './ws-types.js';
export type { WebSocketEvents, WebSocketServerEvents } from './websocket-events.js';
export type {
  FinishRequestCallback, Event, ErrorEvent, CloseEvent, MessageEvent, WebSocketEventMap, WebSocketEventListener,
} from './ws-types-bound.js';
