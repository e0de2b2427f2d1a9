/**
 * The names the default export's namespace (`WebSocket.RawData`, …) refers to, gathered in one
 * module so src/index.ts can alias them without clashing with its own `WebSocket`. Types only.
 * @packageDocumentation
 */
export type {
  RawData, Data, CertMeta, VerifyClientCallbackSync, VerifyClientCallbackAsync, EventListenerOptions, AddressInfo,
} from './node/ws-types.js';
export type { FinishRequestCallback, Event, ErrorEvent, CloseEvent, MessageEvent, WebSocketEventMap } from './node/ws-types-bound.js';
export type { ClientOptions } from './node/websocket.js';
export type { PerMessageDeflateOptions } from './node/deflate-options.js';
export type { ServerOptions, WebSocketServer } from './realtime/realtime-server.js';
