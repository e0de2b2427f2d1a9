// Several servers sharing one HTTP server through noServer and handleUpgrade, with
// authentication before the upgrade (the ws README's examples).
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

const server = createServer();
const wss1 = new WebSocketServer({ noServer: true });
const wss2 = new WebSocketServer({ noServer: true, path: '/bar' });

wss1.on('connection', function connection(ws: WebSocket, request: IncomingMessage) {
  ws.on('error', console.error);
  ws.send(request.url ?? '/');
});
wss2.on('connection', function connection(ws) {
  ws.on('message', (data) => ws.send(data));
});

function authenticate(request: IncomingMessage, next: (err: Error | null, client?: string) => void): void {
  next(request.headers.authorization ? null : new Error('no'), 'someone');
}

function onSocketError(err: Error): void {
  console.error(err);
}

server.on('upgrade', function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
  socket.on('error', onSocketError);
  authenticate(request, function next(err, client) {
    if (err || !client) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    socket.removeListener('error', onSocketError);
    const { pathname } = new URL(request.url ?? '/', 'wss://base.url');
    if (pathname === '/foo') {
      wss1.handleUpgrade(request, socket, head, function done(ws) {
        wss1.emit('connection', ws, request, client);
      });
    } else if (wss2.shouldHandle(request)) {
      wss2.handleUpgrade(request, socket, head, (ws, req) => {
        wss2.emit('connection', ws, req);
      });
    } else {
      socket.destroy();
    }
  });
});

server.listen(8080);
