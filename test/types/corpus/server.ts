// A server in port mode, as in the ws README: broadcast over wss.clients, the README's
// heartbeat, address(), events of the server.
import { WebSocketServer, WebSocket, type Data } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const wss = new WebSocketServer({ port: 8080, perMessageDeflate: false, clientTracking: true, maxPayload: 1024 * 1024 });

wss.on('connection', function connection(ws, request) {
  const ip = request.socket.remoteAddress;
  ws.on('error', console.error);
  ws.on('message', function message(data, isBinary) {
    wss.clients.forEach(function each(client) {
      if (client !== ws && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
  ws.send(`hello ${ip ?? ''}`);
});

wss.on('listening', () => {
  const address = wss.address();
  if (typeof address === 'object' && address !== null) console.log(address.port, address.family, address.address);
  else console.log(address);
});
wss.on('headers', (headers: string[], request: IncomingMessage) => {
  headers.push(`X-Request-Url: ${request.url ?? ''}`);
});
wss.on('error', (error: Error) => console.error(error.message));
wss.on('wsClientError', (error: Error, socket: Duplex, request: IncomingMessage) => {
  console.log(error.message, request.url);
  socket.destroy();
});
wss.once('close', () => console.log('closed'));

export function broadcast(data: Data): number {
  let n = 0;
  for (const client of wss.clients) {
    if (client.readyState === WebSocket.OPEN) {
      client.send(data);
      n++;
    }
  }
  return n;
}

export function count(): number {
  return wss.clients.size;
}

function heartbeatOf(ws: WebSocket & { isAlive?: boolean }): void {
  ws.isAlive = true;
  ws.on('pong', () => { ws.isAlive = true; });
}
wss.on('connection', heartbeatOf);

const interval = setInterval(function ping() {
  wss.clients.forEach(function each(ws: WebSocket & { isAlive?: boolean }) {
    if (ws.isAlive === false) return ws.terminate();
    ws.isAlive = false;
    ws.ping();
  });
}, 30000);

wss.on('close', function close() {
  clearInterval(interval);
});

export function stop(): void {
  wss.close((err) => {
    if (err) console.error(err);
  });
  wss.close();
}
