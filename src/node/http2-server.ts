/**
 * WebSockets over HTTP/2 (RFC 8441) on the server: the glue between Node's `http2` servers and
 * {@link WebSocketServer}.
 *
 * A `WebSocketServer` given `{ server }` where the server is an `http2.createSecureServer()`
 * (usually with `allowHTTP1: true`) or `http2.createServer()` accepts, besides HTTP/1.1 upgrades,
 * RFC 8441 extended-CONNECT streams: each becomes a `WebSocket` whose "socket" is the
 * `Http2Stream`, with the same 'connection' event and API.
 *
 * The trap this file is built around: SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) tells
 * browsers to open every WebSocket to the origin as a stream of the page's HTTP/2 connection. A
 * server that advertises it and then does not answer extended CONNECT breaks every WebSocket of
 * the origin (Socket.IO on Node's http2 with Chrome 121, socketio/socket.io#5067). So the setting
 * is turned on only when a `WebSocketServer` attaches, and once a server has advertised it, a
 * stream listener stays to answer every extended CONNECT (with 404/503 if no WebSocket server is
 * attached any more: sessions opened earlier still carry the setting, and RFC 8441 §3 forbids
 * taking it back).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { STATUS_TEXT, isExtendedConnect } from '../protocol/index.js';
import { NGHTTP2_CANCEL, http2HeaderLookup, isConnectionSpecific, kRefused, resetWithCancelOnDestroy } from './http2-stream.js';

export { isHttp2Stream } from './http2-stream.js';

const load = createRequire(import.meta.url);
/** `node:http2`, loaded when a server attaches (most processes never need it). */
let http2Module: typeof Http2 | undefined;
function http2(): typeof Http2 {
  return (http2Module ??= load('node:http2') as typeof Http2);
}

const EMPTY = Buffer.alloc(0);

/** What the hub needs of a `WebSocketServer` (a type of its own, so the two files do not import each other). */
export interface Http2UpgradeTarget<W> {
  /** Whether the request is for this server (its `path`). */
  shouldHandle(req: Http.IncomingMessage): boolean;
  /** The server's upgrade path, given the stream as the socket. */
  handleUpgrade(req: Http.IncomingMessage, socket: Duplex, head: Buffer, callback: (ws: W, req: Http.IncomingMessage) => void): void;
}

/** An HTTP/2 server, secure or not. */
export type AnyHttp2Server = Http2.Http2Server | Http2.Http2SecureServer;

/** Whether `server` is one of Node's HTTP/2 servers (they alone have `updateSettings`). */
export function isHttp2Server(server: object): server is AnyHttp2Server {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}


/**
 * Receives an RFC 8441 extended CONNECT as `'upgrade'` listeners receive an HTTP/1.1 upgrade:
 * the request (an `Http2ServerRequest`, typed as `IncomingMessage`), the stream as the socket,
 * and an empty head. Returns true when it took the stream (answered or will answer it).
 */
export type ExtendedConnectListener = (req: Http.IncomingMessage, stream: Http2.ServerHttp2Stream, head: Buffer) => boolean;

/** The listeners attached to one HTTP/2 server, behind its one stream listener. */
interface Hub {
  listeners: Set<ExtendedConnectListener>;
}
const hubs = new WeakMap<AnyHttp2Server, Hub>();

/** Marks a stream whose extended CONNECT the compatibility API's 'connect' event has delivered. */
const kRequest = Symbol('parley.h2request');
type TaggedStream = Http2.ServerHttp2Stream & { [kRequest]?: Http2.Http2ServerRequest };

/**
 * Routes RFC 8441 extended-CONNECT streams of an HTTP/2 server to `listener`, and advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL to the server's new sessions while at least one listener is
 * attached. The `noServer` counterpart of `new WebSocketServer({ server })`: call
 * `wss.handleUpgrade(req, stream, head, cb)` from the listener as from an 'upgrade' listener.
 *
 * Until the listener answers, an HTTP/1.1 refusal written to the stream (what `'upgrade'`
 * listeners written for `ws` do: `socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n')`) is sent as
 * the HTTP/2 response it describes. Streams no listener takes get 404 (503 once none is attached).
 * @returns the detach function
 */
export function onExtendedConnect(server: AnyHttp2Server, listener: ExtendedConnectListener): () => void {
  let hub = hubs.get(server);
  if (hub === undefined) {
    const created: Hub = { listeners: new Set() };
    hub = created;
    hubs.set(server, created);
    server.on('stream', (stream: Http2.ServerHttp2Stream, headers: Http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      if (!isExtendedConnect(http2HeaderLookup(headers))) return;
      // The compatibility API (installed with the first 'request' listener) runs its own stream
      // listener, which makes a request object and emits 'connect'. Which of the two listeners
      // runs first depends on the order they were added, so the decision waits a tick: one
      // request object per stream either way.
      process.nextTick(dispatch, created, stream, headers, rawHeaders);
    });
    server.on('connect', (req: Http2.Http2ServerRequest, res: Http2.Http2ServerResponse) => {
      if (isExtendedConnect(http2HeaderLookup(req.headers))) {
        (req.stream as TaggedStream)[kRequest] = req;
        return;
      }
      // Listening to 'connect' took away Node's default answer to a plain CONNECT (405): give
      // it when no one else listens.
      if (server.listenerCount('connect') === 1) {
        res.statusCode = 405;
        res.end();
      }
    });
  }
  hub.listeners.add(listener);
  server.updateSettings({ enableConnectProtocol: true });
  const owned = hub;
  return () => {
    // RFC 8441 §3 forbids withdrawing the setting from a session that has it: those sessions'
    // extended CONNECTs are still answered by the stream listener (with 503 once none is left).
    if (owned.listeners.delete(listener) && owned.listeners.size === 0) server.updateSettings({ enableConnectProtocol: false });
  };
}

/**
 * Attaches a `WebSocketServer` (in `server` mode) to an HTTP/2 server: extended CONNECTs on its
 * path go to its `handleUpgrade`.
 * @returns the detach function
 */
export function attachHttp2<W>(server: AnyHttp2Server, target: Http2UpgradeTarget<W>, onConnection: (ws: W, req: Http.IncomingMessage) => void): () => void {
  return onExtendedConnect(server, (req, stream, head) => {
    if (!target.shouldHandle(req)) return false;
    target.handleUpgrade(req, stream, head, onConnection);
    return true;
  });
}

function dispatch(hub: Hub, stream: TaggedStream, headers: Http2.IncomingHttpHeaders, rawHeaders: string[]): void {
  if (stream.destroyed) return;
  const req = stream[kRequest] ?? new (http2().Http2ServerRequest)(stream, headers, {}, rawHeaders);
  delete stream[kRequest];
  const incoming = req as unknown as Http.IncomingMessage;
  resetWithCancelOnDestroy(stream);
  translateHttp1Refusals(stream);
  for (const listener of hub.listeners) {
    if (listener(incoming, stream, EMPTY)) return;
  }
  // No listener takes this path (or none is attached any more): an answer, never silence.
  refuseStream(stream, hub.listeners.size === 0 ? 503 : 404);
}

/** The bytes of an HTTP/1.1 response head written to a stream not yet answered. */
const kPendingHead = Symbol('parley.pendingHead');
type ShimmedStream = Http2.ServerHttp2Stream & { [kPendingHead]?: Buffer };

/**
 * Gives the stream `write`/`end` that turn an HTTP/1.1 response head into the HTTP/2 response it
 * describes, while the stream has not responded. Own properties shadowing the prototype's, deleted
 * once the stream has answered: streams of accepted WebSockets write through the prototype.
 */
function translateHttp1Refusals(stream: ShimmedStream): void {
  stream.write = shimWrite as Http2.ServerHttp2Stream['write'];
  stream.end = shimEnd as Http2.ServerHttp2Stream['end'];
}

function restore(stream: ShimmedStream): void {
  delete (stream as Partial<ShimmedStream>).write;
  delete (stream as Partial<ShimmedStream>).end;
  delete stream[kPendingHead];
}

type Callback = (error?: Error | null) => void;

function shimWrite(this: ShimmedStream, chunk: unknown, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
  if (this.headersSent || this.destroyed) {
    restore(this);
    return this.write(chunk, encoding as BufferEncoding, cb);
  }
  translate(this, chunk, encoding, false);
  const done = typeof encoding === 'function' ? encoding : cb;
  if (done !== undefined) process.nextTick(done);
  return true;
}

function shimEnd(this: ShimmedStream, chunk?: unknown, encoding?: BufferEncoding | Callback, cb?: Callback): ShimmedStream {
  if (this.headersSent || this.destroyed) {
    restore(this);
    return this.end(chunk, encoding as BufferEncoding, cb);
  }
  const done = typeof chunk === 'function' ? (chunk as Callback) : typeof encoding === 'function' ? encoding : cb;
  translate(this, typeof chunk === 'function' ? undefined : chunk, encoding, true);
  if (done !== undefined) process.nextTick(done);
  return this;
}

/** Buffers bytes until an HTTP/1.1 head is complete, then responds with its status, headers and body. */
function translate(stream: ShimmedStream, chunk: unknown, encoding: BufferEncoding | Callback | undefined, end: boolean): void {
  if (chunk !== undefined && chunk !== null) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'latin1') : Buffer.from(chunk as Uint8Array);
    stream[kPendingHead] = stream[kPendingHead] === undefined ? bytes : Buffer.concat([stream[kPendingHead], bytes]);
  }
  const pending = stream[kPendingHead] ?? EMPTY;
  const endOfHead = pending.indexOf('\r\n\r\n');
  if (endOfHead === -1) {
    // Bytes that are not an HTTP head at all, or a head cut short by end(): refuse plainly.
    if (end || pending.length > 16_384) {
      restore(stream);
      refuseStream(stream, 500);
    }
    return;
  }
  const lines = pending.subarray(0, endOfHead).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  let status = match === null ? 500 : Number(match[1]);
  // Only a refusal can be translated: an informational or success status written by hand cannot
  // accept a WebSocket on HTTP/2 (that is WebSocketServer's 200, RFC 8441 §5).
  if (status < 300) status = 500;
  const headers: Record<string, string> = {};
  let length: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name !== 'content-type') headers[name] = value;
  }
  let body = pending.subarray(endOfHead + 4);
  if (length !== undefined && Number.isInteger(length) && length >= 0) body = body.subarray(0, length);
  restore(stream);
  refuseStream(stream, status, body.toString('utf8'), headers);
}

/** Closes a stream whose response has been sent, whether or not the client has ended its side (RFC 9113 §8.1). */
function closeWhenFinished(this: Http2.ServerHttp2Stream): void {
  if (!this.closed) this.close();
}

/**
 * Refuses an extended CONNECT with an HTTP error (the RFC 8441 counterpart of the HTTP/1.1
 * refusal): a status, a short public text body, and the end of the stream.
 */
export function refuseStream(stream: Http2.ServerHttp2Stream, status: number, message?: string, headers: Readonly<Record<string, string>> = {}): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_CANCEL);
    return;
  }
  const body = message ?? STATUS_TEXT[status] ?? 'Error';
  const out: Http2.OutgoingHttpHeaders = { ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) };
  // The HTTP/1.1 refusal's 426 says which version is spoken; on HTTP/2 the refusal is a 400 that says it too.
  if (status === 400 || status === 426) out['sec-websocket-version'] = '13';
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (!isConnectionSpecific(name)) out[name] = v;
  }
  stream.once('finish', closeWhenFinished);
  (stream as { [kRefused]?: boolean })[kRefused] = true;
  stream.respond(out);
  stream.end(body);
}

/**
 * The lines of the 200 that accepts an extended CONNECT, shaped like the HTTP/1.1 lines of
 * `ws`'s 'headers' event (a status line, then `Name: value`), so listeners may add headers the
 * same way on both transports.
 */
export function streamResponseLines(protocol: string | undefined, extensions: string | undefined): string[] {
  const lines = ['HTTP/2 200'];
  if (protocol !== undefined) lines.push(`sec-websocket-protocol: ${protocol}`);
  if (extensions !== undefined && extensions.length > 0) lines.push(`sec-websocket-extensions: ${extensions}`);
  return lines;
}

/**
 * Sends the 200 that accepts an extended CONNECT (RFC 8441 §5), built from `lines` after the
 * 'headers' listeners have seen them. Connection-specific headers, which HTTP/2 forbids
 * (RFC 9113 §8.2.2), are dropped.
 */
export function acceptStream(stream: Http2.ServerHttp2Stream, lines: readonly string[]): void {
  const out: Http2.OutgoingHttpHeaders = { ':status': 200 };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (isConnectionSpecific(name)) continue;
    const value = line.slice(colon + 1).trim();
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  stream.respond(out);
}
