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
import { NGHTTP2_CANCEL, http2HeaderLookup, isConnectionSpecific, resetWithCancelOnDestroy } from './http2-stream.js';

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


/** The WebSocket servers attached to one HTTP/2 server, and its one stream listener. */
interface Hub {
  targets: Set<HubEntry>;
}
interface HubEntry {
  target: Http2UpgradeTarget<unknown>;
  onConnection: (ws: unknown, req: Http.IncomingMessage) => void;
}
const hubs = new WeakMap<AnyHttp2Server, Hub>();

/** Marks a stream whose extended CONNECT the compatibility API's 'connect' event has delivered. */
const kRequest = Symbol('parley.h2request');
type TaggedStream = Http2.ServerHttp2Stream & { [kRequest]?: Http2.Http2ServerRequest };

/**
 * Attaches a WebSocket server to an HTTP/2 server: advertises SETTINGS_ENABLE_CONNECT_PROTOCOL
 * to new sessions and routes extended-CONNECT streams to `target.handleUpgrade`.
 * @returns the detach function (the setting is withdrawn from new sessions when the last one detaches)
 */
export function attachHttp2<W>(server: AnyHttp2Server, target: Http2UpgradeTarget<W>, onConnection: (ws: W, req: Http.IncomingMessage) => void): () => void {
  let hub = hubs.get(server);
  if (hub === undefined) {
    const created: Hub = { targets: new Set() };
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
  const entry = { target, onConnection } as HubEntry;
  hub.targets.add(entry);
  server.updateSettings({ enableConnectProtocol: true });
  const owned = hub;
  return () => {
    owned.targets.delete(entry);
    if (owned.targets.size === 0) server.updateSettings({ enableConnectProtocol: false });
  };
}

function dispatch(hub: Hub, stream: TaggedStream, headers: Http2.IncomingHttpHeaders, rawHeaders: string[]): void {
  if (stream.destroyed) return;
  const req = stream[kRequest] ?? new (http2().Http2ServerRequest)(stream, headers, {}, rawHeaders);
  delete stream[kRequest];
  const incoming = req as unknown as Http.IncomingMessage;
  let chosen: HubEntry | undefined;
  for (const entry of hub.targets) {
    if (entry.target.shouldHandle(incoming)) {
      chosen = entry;
      break;
    }
  }
  if (chosen === undefined) {
    // No attached server takes this path (or none is attached any more): an answer, never silence.
    refuseStream(stream, hub.targets.size === 0 ? 503 : 404);
    return;
  }
  resetWithCancelOnDestroy(stream);
  chosen.target.handleUpgrade(incoming, stream, EMPTY, chosen.onConnection);
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
