/**
 * HTTP/2 peers for the RFC 8441 tests: Node's own `http2` client speaking extended CONNECT by
 * hand (frames built by test/support/frames.ts, not by the code under test), and Parley servers
 * on `http2.createServer` (h2c) or `http2.createSecureServer` (TLS, HTTP/1.1 allowed), closed when
 * the test ends.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/node/index.js';
import { decodeFrames, encodeFrame, type DecodedFrame } from './frames.js';
import { defer, waitFor, withTimeout } from '../node/helpers.js';

/** A Parley WebSocketServer attached to a Node HTTP/2 server on 127.0.0.1:0. */
export interface H2Server {
  server: http2.Http2Server | http2.Http2SecureServer;
  wss: WebSocketServer;
  port: number;
  /** Every connection the server emitted, in order. */
  conns: WebSocket[];
  /** HTTP/2 sessions the server has accepted. */
  sessions: http2.ServerHttp2Session[];
}

/**
 * Starts an h2c server (or a TLS one with `tls`, HTTP/1.1 allowed) with a WebSocketServer
 * attached; `attach: false` starts it without one.
 */
export async function startH2(t: TestContext, options: Omit<ServerOptions, 'port' | 'server' | 'noServer'> & { tls?: { cert: string; key: string }; attach?: boolean } = {}): Promise<H2Server> {
  const { tls, attach = true, ...wssOptions } = options;
  const onRequest = (_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('plain request\n');
  };
  const server = tls === undefined ? http2.createServer(onRequest) : http2.createSecureServer({ ...tls, allowHTTP1: true }, onRequest);
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  const wss = attach ? new WebSocketServer({ ...wssOptions, server }) : new WebSocketServer({ ...wssOptions, noServer: true });
  const conns: WebSocket[] = [];
  wss.on('connection', (ws) => {
    conns.push(ws);
    ws.on('error', () => {});
  });
  defer(t, async () => {
    for (const ws of conns) ws.terminate();
    for (const s of sessions) s.destroy();
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  return { server, wss, port: (server.address() as AddressInfo).port, conns, sessions };
}

/** Connects an HTTP/2 client session and waits for the server's first SETTINGS. */
export async function h2Session(t: TestContext, port: number, tls?: { ca: string }): Promise<http2.ClientHttp2Session> {
  const session = tls === undefined ? http2.connect(`http://127.0.0.1:${port}`) : http2.connect(`https://127.0.0.1:${port}`, { ca: tls.ca });
  session.on('error', () => {});
  defer(t, () => session.destroy());
  await waitFor(session, 'remoteSettings', 3000);
  return session;
}

/** An extended-CONNECT stream opened by hand, reading frames as they come. */
export interface H2Peer {
  stream: http2.ClientHttp2Stream;
  /** The response headers. */
  response: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
  status: number;
  frames: DecodedFrame[];
  /** Resolves when the server ended its side (END_STREAM, RFC 8441 §5's orderly close). */
  ended: Promise<void>;
  /** Resolves with the RST_STREAM code when the stream has closed (0: closed without a reset). */
  closed: Promise<number>;
  /** Sends masked client frames (or any bytes). */
  write(bytes: Buffer): void;
  /** Waits until `n` frames have arrived. */
  waitFrames(n: number, ms?: number): Promise<DecodedFrame[]>;
}

/** Headers of a valid RFC 8441 §4 request for `path`. */
export function connectHeaders(port: number, path = '/', extra: Record<string, string> = {}): http2.OutgoingHttpHeaders {
  return { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': path, ':authority': `127.0.0.1:${port}`, 'sec-websocket-version': '13', ...extra };
}

/** Opens an extended-CONNECT stream on `session` and waits for the response. */
export async function h2Peer(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<H2Peer> {
  const stream = session.request(headers, { endStream: false });
  stream.on('error', () => {});
  const frames: DecodedFrame[] = [];
  let buf: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const { frames: got, rest } = decodeFrames(buf);
    buf = rest;
    frames.push(...got);
  });
  // Like a TCP socket without allowHalfOpen, and like browsers: the server's END_STREAM is answered with ours.
  const ended = new Promise<void>((resolve) => stream.once('end', () => {
    stream.end();
    resolve();
  }));
  const closed = new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? 0)));
  const [response] = await withTimeout(waitFor<[http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader]>(stream, 'response', 3000), 3000, 'the CONNECT response');
  return {
    stream, response, status: Number(response[':status']), frames, ended, closed,
    write: (bytes) => { stream.write(bytes); },
    async waitFrames(n, ms = 3000) {
      const deadline = Date.now() + ms;
      while (frames.length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} frames (got ${frames.length})`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return frames;
    },
  };
}

/** A masked client frame. */
export function masked(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true, rsv = 0): Buffer {
  return encodeFrame({ opcode, payload, mask: true, fin, rsv });
}
