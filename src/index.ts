/**
 * Parley: a fast, complete WebSocket stack for Node.js with the API of `ws` 8.
 *
 * `import { WebSocket, WebSocketServer } from 'parley'`, or `import WebSocket from 'parley'`
 * with `WebSocket.Server`/`WebSocket.WebSocketServer` as in `ws`. These are the real-time classes
 * (topics, presence, recovery: docs/realtime.md); the plain Node-layer ones are in 'parley/node'.
 * @packageDocumentation
 */
import { WebSocket as WebSocketClass } from './realtime/realtime-socket.js';
import { WebSocketServer } from './realtime/realtime-server.js';
import type * as http from 'node:http';
import type { WebSocket as NodeWebSocket } from './node/websocket.js';
import { createWebSocketStream } from './node/stream.js';
import type * as ws from './ws-exports.js';

export * from './node/index.js';
export * from './pubsub/index.js';
// The parley.v1 wire codec, the same module the browser client uses.
export {
  REALTIME_SUBPROTOCOL,
  RealtimeErrorCode,
  EnvelopeError,
  decodeFrame,
  encodeEnvelope,
  parseClientEnvelope,
  parseServerEnvelope,
  type ClientEnvelope,
  type ServerEnvelope,
  type PresenceMember,
  type StreamPosition,
  type EnvelopeId,
} from './wire/envelope.js';
// The real-time classes replace the Node layer's under the same names (those stay in 'parley/node'),
// and the engine with the Node layer's frames replaces the bare engine.
export { WebSocket, WebSocketServer, PubSub, type ServerOptions, type PubSubOptions, type Subscriber } from './realtime/index.js';
export * from './realtime/index.js';
export {
  CloseCode,
  ErrorCode,
  ProtocolErrorCode,
  ParleyError,
  ProtocolError,
  HandshakeError,
  ClosedError,
  InvalidStateError,
} from './protocol/index.js';

export { createWebSocketStream } from './node/stream.js';

/**
 * `Server`, as `ws` names `WebSocketServer` too (a type here, as in `@types/ws`'s ES module
 * declarations; the value is `WebSocket.Server` on the default export).
 */
export type Server<
  T extends typeof NodeWebSocket = typeof WebSocketClass,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> = WebSocketServer<T, U>;

/**
 * The `ws`-style default export: the `WebSocket` class, carrying `Server`, `WebSocketServer`,
 * `WebSocket` and `createWebSocketStream` as statics (as `ws` does at runtime), and, as a
 * namespace, the types `ws` programs name through it (`WebSocket.RawData`, `WebSocket.ServerOptions`,
 * …, as in `@types/ws` 8).
 */
const WebSocket = WebSocketClass as typeof WebSocketClass & {
  Server: typeof WebSocketServer;
  WebSocketServer: typeof WebSocketServer;
  WebSocket: typeof WebSocketClass;
  createWebSocketStream: typeof createWebSocketStream;
};
Object.assign(WebSocket, { Server: WebSocketServer, WebSocketServer, WebSocket: WebSocketClass, createWebSocketStream });
/** An instance of the `WebSocket` class (the default export used as a type). */
type WebSocket = WebSocketClass;

// A namespace of types only (it emits no code): the one way to give the default export's name the
// dotted type names `ws` programs use, as `@types/ws` does for `ws`. Each is documented where it
// is defined (src/node/ws-types.ts and the options' modules).
// eslint-disable-next-line @typescript-eslint/no-namespace
namespace WebSocket {
  export type RawData = ws.RawData;
  export type Data = ws.Data;
  export type CertMeta = ws.CertMeta;
  export type VerifyClientCallbackSync<R extends http.IncomingMessage = http.IncomingMessage> = ws.VerifyClientCallbackSync<R>;
  export type VerifyClientCallbackAsync<R extends http.IncomingMessage = http.IncomingMessage> = ws.VerifyClientCallbackAsync<R>;
  export type FinishRequestCallback = ws.FinishRequestCallback;
  export type ClientOptions = ws.ClientOptions;
  export type PerMessageDeflateOptions = ws.PerMessageDeflateOptions;
  export type Event = ws.Event;
  export type ErrorEvent = ws.ErrorEvent;
  export type CloseEvent = ws.CloseEvent;
  export type MessageEvent = ws.MessageEvent;
  export type WebSocketEventMap = ws.WebSocketEventMap;
  export type EventListenerOptions = ws.EventListenerOptions;
  export type AddressInfo = ws.AddressInfo;
  export type ServerOptions<
    T extends typeof NodeWebSocket = typeof WebSocketClass,
    U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
  > = ws.ServerOptions<T, U>;
  export type Server<
    T extends typeof NodeWebSocket = typeof WebSocketClass,
    U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
  > = WebSocketServer<T, U>;
  export type WebSocketServer<
    T extends typeof NodeWebSocket = typeof WebSocketClass,
    U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
  > = ws.WebSocketServer<T, U>;
  export type WebSocket = WebSocketClass;
}
export default WebSocket;
