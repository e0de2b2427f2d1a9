/**
 * Parley: a fast, complete WebSocket stack for Node.js with the API of `ws` 8.
 *
 * `import { WebSocket, WebSocketServer } from 'parley'`, or `import WebSocket from 'parley'`
 * with `WebSocket.Server`/`WebSocket.WebSocketServer` as in `ws`.
 * @packageDocumentation
 */
import { WebSocket as WebSocketClass } from './node/websocket.js';
import { WebSocketServer } from './node/websocket-server.js';

export * from './node/index.js';
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
