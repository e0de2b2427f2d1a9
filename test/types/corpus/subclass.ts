// A WebSocket subclass as the server's `WebSocket` option: the server is generic over it.
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { IncomingMessage } from 'node:http';

export class MyWebSocket extends WebSocket {
  isAlive = true;
  userId: string | undefined;

  heartbeat(): void {
    this.isAlive = true;
  }
}

const options: ServerOptions<typeof MyWebSocket> = { port: 0, WebSocket: MyWebSocket };
const wss = new WebSocketServer<typeof MyWebSocket>(options);

wss.on('connection', (ws: MyWebSocket, request: IncomingMessage) => {
  ws.userId = request.headers['x-user'] as string | undefined;
  ws.on('pong', () => ws.heartbeat());
});

export function sweep(): void {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}

export function find(user: string): MyWebSocket | undefined {
  return [...wss.clients].find((ws) => ws.userId === user);
}

const inferred = new WebSocketServer({ noServer: true, WebSocket: MyWebSocket });
inferred.on('connection', (ws) => {
  ws.heartbeat();
});
inferred.handleUpgrade({} as IncomingMessage, null as never, Buffer.alloc(0), (ws) => ws.heartbeat());

export class Room extends WebSocketServer {
  name = 'lobby';
  announce(text: string): void {
    this.clients.forEach((ws) => ws.send(`${this.name}: ${text}`));
  }
}
