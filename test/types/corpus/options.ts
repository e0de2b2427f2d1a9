// Options objects declared apart from the constructor call, with ws's types.
import WebSocket, { WebSocketServer, type ClientOptions, type PerMessageDeflateOptions, type ServerOptions } from 'ws';
import { createServer } from 'node:http';
import { Agent } from 'node:https';
import * as zlib from 'node:zlib';
import * as net from 'node:net';

export const deflate: PerMessageDeflateOptions = {
  zlibDeflateOptions: { chunkSize: 1024, memLevel: 7, level: 3 },
  zlibInflateOptions: { chunkSize: 10 * 1024 },
  clientNoContextTakeover: true,
  serverNoContextTakeover: true,
  serverMaxWindowBits: 10,
  concurrencyLimit: 10,
  threshold: 1024,
};

const server = createServer();
export const serverOptions: ServerOptions = {
  server,
  path: '/ws',
  perMessageDeflate: deflate,
  maxPayload: 65536,
  clientTracking: false,
  skipUTF8Validation: true,
  autoPong: true,
  allowSynchronousEvents: true,
  handleProtocols: (protocols) => protocols.values().next().value ?? false,
};
export const wss = new WebSocketServer(serverOptions);
export const wss2 = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 10 }, () => console.log('listening'));

export const clientOptions: ClientOptions = {
  perMessageDeflate: { clientMaxWindowBits: 10, threshold: 0, zlibDeflateOptions: { level: zlib.constants.Z_BEST_SPEED } },
  handshakeTimeout: 1000,
  followRedirects: true,
  maxRedirects: 3,
  origin: 'https://example.com',
  headers: { 'X-Token': 'abc' },
  protocolVersion: 13,
  maxPayload: 1 << 20,
  skipUTF8Validation: false,
  autoPong: false,
  rejectUnauthorized: false,
  ca: 'certificate',
  agent: new Agent({ keepAlive: false }),
  family: 4,
  localAddress: '127.0.0.1',
  finishRequest: (request, websocket) => {
    request.setHeader('X-Extra', websocket.url);
    request.end();
  },
};
export const client = new WebSocket('wss://example.com/socket', clientOptions);
export const client2 = new WebSocket('ws://localhost:8080', 'chat', { perMessageDeflate: false });
export const client3 = new WebSocket('ws+unix:///tmp/sock:/path');
const wsOptions: WebSocket.ClientOptions = { handshakeTimeout: 10 };
export const client4 = new WebSocket('ws://localhost', [], wsOptions);

export const compat = new WebSocket('ws://localhost', {
  createConnection: net.createConnection,
  generateMask: (mask: Buffer) => mask.fill(0),
  maxBufferedChunks: 1000,
  maxFragments: 100,
});
export const compatServer = new WebSocketServer({ noServer: true, maxBufferedChunks: 1000, maxFragments: 100 });

// Attached to an HTTPS server, with the request class of a custom HTTP server.
import { createServer as createHttpsServer } from 'node:https';
import { IncomingMessage } from 'node:http';
class TracedRequest extends IncomingMessage {
  traceId = '';
}
export const secure = new WebSocketServer({ server: createHttpsServer({ key: 'k', cert: 'c' }) });
const traced = createServer({ IncomingMessage: TracedRequest });
export const tracedWss = new WebSocketServer<typeof WebSocket, typeof TracedRequest>({ server: traced });
tracedWss.on('connection', (ws, request) => ws.send(request.traceId));
