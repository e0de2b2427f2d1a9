/**
 * The client side of WebSockets over HTTP/2 (RFC 8441): the opening handshake as an extended
 * CONNECT on a stream of an HTTP/2 session, and the per-origin session pool behind
 * `{ http2: true }`.
 *
 * The server says whether it takes WebSockets on HTTP/2 in its first SETTINGS frame
 * (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3). Without it, or when the server does not speak
 * HTTP/2 at all (no `h2` in ALPN, or a plain-text server that does not take the HTTP/2 preface),
 * the WebSocket falls back to an HTTP/1.1 upgrade on a connection of its own.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Http2 from 'node:http2';
import {
  ErrorCode, HandshakeError, acceptDeflateResponse, deflateOffer, formatExtensions, validateExtendedConnectResponse,
} from '../protocol/index.js';
import type { DeflateSettings } from './deflate-options.js';
import { Heartbeat } from './heartbeat.js';
import { http2HeaderLookup, isConnectionSpecific, resetWithCancelOnDestroy } from './http2-stream.js';
import { kAbortHandshake, kAttach, kObserveClose, kSetNegotiated, type HandshakeTarget } from './internal.js';

const load = createRequire(import.meta.url);
let http2Module: typeof Http2 | undefined;
function http2(): typeof Http2 {
  return (http2Module ??= load('node:http2') as typeof Http2);
}

const EMPTY = Buffer.alloc(0);

/** The client options this file reads (a subset of `ClientOptions`). */
export interface Http2ClientOptions {
  /**
   * Open the WebSocket as a stream of an HTTP/2 connection (RFC 8441). `true` shares one
   * connection per origin among every WebSocket opened with `http2: true` (closed when its last
   * WebSocket closes); a `ClientHttp2Session` uses that session. Either way, when the server
   * does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL the WebSocket falls back to HTTP/1.1.
   * Default false.
   */
  http2?: boolean | Http2.ClientHttp2Session;
}

/** What `connectClient` has already worked out, handed over rather than worked out again. */
export interface Http2Handshake {
  url: URL;
  protocols: readonly string[];
  deflate: DeflateSettings | undefined;
  heartbeat: { interval: number; timeout: number } | undefined;
  handshakeTimeout: number | undefined;
  origin: string | undefined;
  headers: Record<string, string>;
  /** TLS options passed to `http2.connect` for a pooled session. */
  tls: Http2.SecureClientSessionOptions;
  session: Http2.ClientHttp2Session | undefined;
}

/** One pooled connection per origin and TLS options. */
interface Pooled {
  session: Http2.ClientHttp2Session;
  /** WebSockets using or waiting for the session. */
  users: number;
  /** Settles once the server's first SETTINGS (or the session's failure) says whether RFC 8441 is on. */
  ready: Promise<boolean>;
}
const pool = new Map<string, Pooled>();
/** Origins found not to take WebSockets over HTTP/2, with when that was learnt: not asked again for a minute. */
const noExtendedConnect = new Map<string, number>();
const NEGATIVE_TTL_MS = 60_000;

/** Whether the sessions's peer has advertised SETTINGS_ENABLE_CONNECT_PROTOCOL, waiting for its first SETTINGS if need be. */
const settled = new WeakMap<Http2.ClientHttp2Session, Promise<boolean>>();
function advertises(session: Http2.ClientHttp2Session): Promise<boolean> {
  let p = settled.get(session);
  if (p !== undefined) return p;
  p = new Promise<boolean>((resolve) => {
    if (session.remoteSettings.enableConnectProtocol === true) {
      resolve(true);
      return;
    }
    const done = (value: boolean): void => {
      session.removeListener('remoteSettings', onSettings);
      session.removeListener('error', onFail);
      session.removeListener('close', onFail);
      clearTimeout(grace);
      resolve(value);
    };
    const onSettings = (s: Http2.Settings): void => done(s.enableConnectProtocol === true);
    const onFail = (): void => done(false);
    session.on('remoteSettings', onSettings);
    session.once('error', onFail);
    session.once('close', onFail);
    // A session handed in already connected may have had its SETTINGS before we listened: the
    // server sends them first thing (RFC 9113 §3.4), so a connected session that has not
    // advertised the setting after a short grace does not.
    const grace = setTimeout(() => done(session.remoteSettings.enableConnectProtocol === true), session.connecting ? 30_000 : 250);
    grace.unref();
  });
  settled.set(session, p);
  return p;
}

function poolKey(url: URL, tls: Http2.SecureClientSessionOptions): string {
  const origin = `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
  return `${origin}\0${String(tls.rejectUnauthorized)}\0${tls.servername ?? ''}\0${caId(tls.ca)}`;
}
const caIds = new WeakMap<object, number>();
let nextCaId = 0;
function caId(ca: unknown): string {
  if (ca === undefined) return '';
  if (typeof ca === 'string') return ca;
  if (typeof ca === 'object' && ca !== null) {
    let id = caIds.get(ca);
    if (id === undefined) caIds.set(ca, (id = ++nextCaId));
    return `#${id}`;
  }
  return typeof ca === 'number' || typeof ca === 'boolean' ? String(ca) : '?';
}

function acquire(url: URL, tls: Http2.SecureClientSessionOptions): Pooled | undefined {
  const key = poolKey(url, tls);
  const learnt = noExtendedConnect.get(key);
  if (learnt !== undefined) {
    if (Date.now() - learnt < NEGATIVE_TTL_MS) return undefined;
    noExtendedConnect.delete(key);
  }
  let entry = pool.get(key);
  if (entry === undefined || entry.session.closed || entry.session.destroyed) {
    const authority = `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
    const session = http2().connect(authority, tls);
    // A pooled session's errors reach its WebSockets through their streams; unhandled here they would crash the process.
    session.on('error', () => {});
    const created: Pooled = { session, users: 0, ready: advertises(session) };
    entry = created;
    pool.set(key, created);
    session.once('close', () => {
      if (pool.get(key) === created) pool.delete(key);
    });
    void created.ready.then((ok) => {
      if (!ok) {
        noExtendedConnect.set(key, Date.now());
        if (pool.get(key) === created) pool.delete(key);
        session.close();
      }
    });
  }
  entry.users++;
  return entry;
}

function release(entry: Pooled): void {
  if (--entry.users === 0) entry.session.close();
}

/**
 * Opens `ws` over HTTP/2, or over HTTP/1.1 through `fallback` when the server does not take
 * WebSockets on HTTP/2.
 * @returns an object the WebSocket aborts the handshake through (as it does an `http.ClientRequest`)
 */
export function connectHttp2(ws: HandshakeTarget, h: Http2Handshake, fallback: () => void): Http.ClientRequest {
  let current: { destroy(error?: Error): unknown } | undefined;
  let aborted = false;
  let timer: NodeJS.Timeout | undefined;
  const abort = (error: Error): void => {
    if (timer !== undefined) clearTimeout(timer);
    ws[kAbortHandshake](error);
  };
  if (h.handshakeTimeout !== undefined) {
    timer = setTimeout(() => abort(new HandshakeError('Opening handshake has timed out', 0, ErrorCode.HANDSHAKE_TIMEOUT)), h.handshakeTimeout);
  }
  const pooled = h.session === undefined ? acquire(h.url, h.tls) : undefined;
  const session = h.session ?? pooled?.session;
  const ready = session === undefined ? Promise.resolve(false) : (pooled?.ready ?? advertises(session));

  void ready.then((ok) => {
    if (aborted || ws.readyState !== 0) {
      if (pooled !== undefined) release(pooled);
      return;
    }
    if (!ok || session === undefined || session.closed || session.destroyed) {
      if (pooled !== undefined) release(pooled);
      if (timer !== undefined) clearTimeout(timer);
      // The HTTP/1.1 path keeps its own handshakeTimeout, and hands `ws` its own request
      // (kSetRequest), which the WebSocket aborts from then on.
      fallback();
      return;
    }
    open(session, pooled);
  });

  const open = (s: Http2.ClientHttp2Session, entry: Pooled | undefined): void => {
    const headers: Http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(h.headers)) {
      const name = k.toLowerCase();
      if (!isConnectionSpecific(name) && !name.startsWith(':') && !name.startsWith('sec-websocket-')) headers[name] = v;
    }
    headers[':method'] = 'CONNECT';
    headers[':protocol'] = 'websocket';
    headers[':scheme'] = h.url.protocol === 'wss:' ? 'https' : 'http';
    headers[':path'] = h.url.pathname + h.url.search;
    headers[':authority'] = h.url.host;
    headers['sec-websocket-version'] = '13';
    if (h.protocols.length > 0) headers['sec-websocket-protocol'] = h.protocols.join(', ');
    if (h.deflate !== undefined) headers['sec-websocket-extensions'] = formatExtensions([deflateOffer(h.deflate.negotiation)]);
    if (h.origin !== undefined) headers.origin = h.origin;
    let stream: Http2.ClientHttp2Stream;
    try {
      stream = s.request(headers, { endStream: false });
    } catch (error) {
      if (entry !== undefined) release(entry);
      abort(error as Error);
      return;
    }
    current = stream;
    if (entry !== undefined) stream.once('close', () => release(entry));
    const onError = (error: Error): void => abort(error);
    stream.once('error', onError);
    stream.once('response', (res) => {
      if (timer !== undefined) clearTimeout(timer);
      if (ws.readyState !== 0) return;
      const status = Number(res[':status']);
      const response = { statusCode: status, statusMessage: '', headers: res, httpVersion: '2.0', httpVersionMajor: 2, httpVersionMinor: 0 };
      ws.emit('upgrade', response);
      if (ws.readyState !== 0) return; // aborted by an 'upgrade' listener
      try {
        const header = http2HeaderLookup(res);
        const accepted = validateExtendedConnectResponse(status, header, h.protocols);
        if (h.deflate === undefined) {
          if (accepted.extensions.length > 0) throw new HandshakeError('Server sent a Sec-WebSocket-Extensions header but no extension was requested', status);
          ws[kSetNegotiated](accepted.protocol, '');
        } else {
          // RFC 7692 §5, §7: a response that does not answer our offer fails the connection.
          const agreed = acceptDeflateResponse(accepted.extensions, h.deflate.negotiation);
          ws[kSetNegotiated](accepted.protocol, agreed === undefined ? '' : header('sec-websocket-extensions')!.trim(), agreed === undefined ? undefined : { params: agreed.params, settings: h.deflate });
        }
      } catch (error) {
        stream.close(0x8);
        abort(error as Error);
        return;
      }
      stream.removeListener('error', onError);
      resetWithCancelOnDestroy(stream);
      ws[kAttach](stream, EMPTY);
      if (h.heartbeat !== undefined) {
        const watch = new Heartbeat(h.heartbeat.interval, h.heartbeat.timeout);
        watch.add(ws);
        ws[kObserveClose](watch);
      }
    });
  };

  return {
    abort: () => {
      aborted = true;
      current?.destroy();
    },
    destroy: (error?: Error) => {
      aborted = true;
      if (timer !== undefined) clearTimeout(timer);
      current?.destroy(error);
    },
  } as unknown as Http.ClientRequest;
}
