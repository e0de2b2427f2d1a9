/**
 * Parley: a fast, complete WebSocket stack for Node.js with the API of `ws` 8.
 *
 * `import { WebSocket, WebSocketServer } from 'parley'`, or `import WebSocket from 'parley'`
 * with `WebSocket.Server`/`WebSocket.WebSocketServer` as in `ws`. These are the real-time classes
 * (topics, presence, recovery: docs/realtime.md); the plain Node-layer ones are in 'parley/node'.
 * @packageDocumentation
 */
import { WebSocket as WebSocketClass } from './pubsub/realtime-socket.js';
import { WebSocketServer } from './pubsub/realtime-server.js';

export * from './node/index.js';
// The real-time classes replace the Node layer's under the same names (those stay in 'parley/node').
export { WebSocket, WebSocketServer, type ServerOptions } from './pubsub/index.js';
export * from './pubsub/index.js';
export {
  CloseCode,
  ErrorCode,
  ParleyError,
  ProtocolError,
  HandshakeError,
  InvalidStateError,
} from './protocol/index.js';

/** The `ws`-style default export: the WebSocket class carrying the server class as statics. */
const WebSocket = WebSocketClass as typeof WebSocketClass & {
  Server: typeof WebSocketServer;
  WebSocketServer: typeof WebSocketServer;
  WebSocket: typeof WebSocketClass;
};
Object.assign(WebSocket, { Server: WebSocketServer, WebSocketServer, WebSocket: WebSocketClass });
export default WebSocket;
