// verifyClient in both forms, handleProtocols, and the callback/option types ws names.
import { WebSocketServer, type VerifyClientCallbackAsync, type VerifyClientCallbackSync } from 'ws';
import type { IncomingMessage } from 'node:http';

const allowed = new Set(['https://example.com']);

const sync: VerifyClientCallbackSync = (info) => info.secure && info.req.headers.cookie !== undefined;
const async: VerifyClientCallbackAsync = (info, callback) => {
  setImmediate(() => {
    if (info.req.headers.authorization === undefined) callback(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' });
    else callback(true);
  });
};
function annotated(info: { origin: string; secure: boolean; req: IncomingMessage }): boolean {
  return allowed.has(info.origin);
}
function annotatedAsync(info: { origin: string; secure: boolean; req: IncomingMessage }, cb: (res: boolean, code?: number) => void): void {
  cb(allowed.has(info.origin), 403);
}

export const servers = [
  new WebSocketServer({ port: 0, verifyClient: sync }),
  new WebSocketServer({ port: 0, verifyClient: async }),
  new WebSocketServer({ port: 0, verifyClient: annotated }),
  new WebSocketServer({ port: 0, verifyClient: annotatedAsync }),
  new WebSocketServer({
    port: 0,
    verifyClient: (info, done) => done(info.req.socket.remoteAddress === '127.0.0.1', 403, 'Forbidden'),
    handleProtocols: (protocols: Set<string>, request: IncomingMessage) => {
      void request;
      if (protocols.has('chat')) return 'chat';
      return false;
    },
  }),
  new WebSocketServer({ port: 0, verifyClient: (info: { req: IncomingMessage }) => info.req.method === 'GET' }),
];
