// CommonJS-style code: ws's server class and stream function reached through the default
// export (`WebSocket.Server`, `WebSocket.createWebSocketStream`), as @types/ws declares them
// for CommonJS.
import WebSocket from 'ws';

const wss = new WebSocket.Server({ port: 8080 });
const wss2: WebSocket.WebSocketServer = new WebSocket.WebSocketServer({ noServer: true });

wss.on('connection', (ws: WebSocket) => {
  const stream = WebSocket.createWebSocketStream(ws, { encoding: 'utf8' });
  stream.pipe(process.stdout);
});

export function servers(): WebSocket.Server[] {
  return [wss, wss2];
}

export function make(url: string): WebSocket.WebSocket {
  return new WebSocket.WebSocket(url);
}

export class Tracked extends WebSocket.Server {
  count(): number {
    return this.clients.size;
  }
}

export function typedServer<T extends typeof WebSocket.WebSocket>(Ctor: T): WebSocket.Server<T> {
  return new WebSocket.Server<T>({ noServer: true, WebSocket: Ctor });
}
