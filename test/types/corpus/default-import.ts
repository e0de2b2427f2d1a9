// The default import used as a value and as a type, with the namespace's types.
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';

export class Hub {
  readonly sockets = new Map<string, WebSocket>();

  add(id: string, ws: WebSocket): void {
    this.sockets.set(id, ws);
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.relay(id, data, isBinary));
    ws.on('close', () => this.sockets.delete(id));
  }

  relay(from: string, data: WebSocket.RawData, isBinary: boolean): void {
    for (const [id, ws] of this.sockets) {
      if (id !== from && ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
    }
  }
}

export function options(): WebSocket.ServerOptions {
  const verifyClient: WebSocket.VerifyClientCallbackSync = ({ req }) => req.headers.host !== undefined;
  return { noServer: true, verifyClient };
}

export function clientOptions(): WebSocket.ClientOptions {
  return { perMessageDeflate: false };
}

export function deflate(): WebSocket.PerMessageDeflateOptions {
  return { threshold: 512 };
}

export function address(a: WebSocket.AddressInfo): string {
  return `${a.address}:${a.port}`;
}

export function cert(c: WebSocket.CertMeta): number {
  return Array.isArray(c) ? c.length : 1;
}

export function onUpgrade(ws: WebSocket, request: IncomingMessage): void {
  const asyncCheck: WebSocket.VerifyClientCallbackAsync = (info, cb) => cb(info.secure);
  void asyncCheck;
  ws.send(request.url ?? '');
}

export const events: Array<keyof WebSocket.WebSocketEventMap> = ['open', 'message', 'close', 'error'];
export const finish: WebSocket.FinishRequestCallback = (request) => request.end();
