/**
 * The client side of the opening handshake (RFC 6455 §4.1) over `http`/`https`: builds the
 * request, follows redirects if asked, checks the 101 response and hands the socket to the
 * `WebSocket`.
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';
import {
  ErrorCode, HandshakeError, acceptDeflateResponse, deflateOffer, formatExtensions, generateKey, isToken, validateUpgradeResponse, type HeaderLookup,
} from '../protocol/index.js';
import { resolvePerMessageDeflate, type PerMessageDeflateOptions } from './deflate-options.js';
import { Heartbeat } from './heartbeat.js';
import { connectHttp2, type Http2ClientOptions } from './client-http2.js';
import { httpModule, httpsModule } from './node-http.js';
import { kAbortHandshake, kAttach, kObserveClose, kSetNegotiated, kSetRequest, type HandshakeTarget } from './internal.js';
import { resolveHeartbeat, type ConnectionOptions, type HeartbeatOptions } from './settings.js';
import type { WsClientCompatOptions } from './ws-types.js';

/**
 * Client options: `ws`'s, plus Parley's connection options. Other `http.request` options pass
 * through. `W` is the connection type `finishRequest` receives: websocket.ts binds it to
 * `WebSocket` as `ClientOptions` (so this file need not import `WebSocket` back).
 */
export interface ClientOptionsOf<W> extends ConnectionOptions, Http2ClientOptions, WsClientCompatOptions<W>, Omit<https.RequestOptions, 'headers' | 'timeout' | 'protocol' | 'host' | 'hostname' | 'port' | 'path' | 'method' | 'createConnection'> {
  /** Ms allowed for the opening handshake. Default: none (as `ws`). */
  handshakeTimeout?: number;
  /**
   * 13 (RFC 6455, default) or 8 (the last draft, hybi-08: same framing; the origin goes in
   * `Sec-WebSocket-Origin`), as in `ws`.
   */
  protocolVersion?: number;
  /** Value of the `Origin` header (`Sec-WebSocket-Origin` with `protocolVersion: 8`). */
  origin?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Follow 3xx redirects. Default false. */
  followRedirects?: boolean;
  /** Most redirects to follow. Default 10. */
  maxRedirects?: number;
  /**
   * Offer permessage-deflate (RFC 7692): `true` for the defaults, options (see
   * docs/permessage-deflate.md), or `false` to offer nothing. Default true, as `ws`: a server
   * that does not enable it (Parley's and `ws`'s default) declines and nothing is compressed.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Ping the server when it has been silent, and close when it stays silent. */
  heartbeat?: HeartbeatOptions;
  /** Accepted for `ws` compatibility; Parley always delivers messages synchronously as they parse. */
  allowSynchronousEvents?: boolean;
  /**
   * Called with the handshake request instead of `req.end()`, to write headers or a body first
   * (as `ws`); it must end the request itself.
   */
  finishRequest?: (request: http.ClientRequest, ws: W) => void;
}

const sha1 = (s: string): Uint8Array => createHash('sha1').update(s).digest();

/** Parses and normalises a client URL the way `ws` does. */
function parseUrl(address: string | URL): URL {
  let url: URL;
  try {
    url = address instanceof URL ? new URL(address.href) : new URL(address);
  } catch {
    throw new SyntaxError(`Invalid URL: ${String(address)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && url.protocol !== 'ws+unix:') {
    throw new SyntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"');
  }
  if (url.hash !== '') throw new SyntaxError('The URL contains a fragment identifier');
  if (url.protocol === 'ws+unix:' && url.pathname === '') throw new SyntaxError(`The URL's pathname is empty`);
  return url;
}

function headerLookup(headers: http.IncomingHttpHeaders): HeaderLookup {
  return (name) => {
    if (!Object.hasOwn(headers, name)) return undefined;
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

/** Where the first request went, to tell whether a redirect leaves its host or its security. */
interface Origin {
  ipc: boolean;
  secure: boolean;
  hostOrSocketPath: string;
}

/** The request options that are Parley's or `ws`'s own and are not handed to `http.request`. */
const OWN_OPTIONS = new Set([
  'handshakeTimeout', 'origin', 'headers', 'followRedirects', 'maxRedirects', 'perMessageDeflate', 'heartbeat',
  'protocolVersion', 'maxPayload', 'maxFragments', 'skipUTF8Validation', 'autoPong', 'maxBufferedAmount',
  'bufferOverflow', 'closeTimeout', 'allowSynchronousEvents', 'finishRequest', 'generateMask', 'auth', 'http2',
]);

/**
 * Starts the client handshake for `ws`, and follows redirects when asked. Each request is handed
 * to `ws` through `kSetRequest` as soon as it exists (`ws._req`, `'redirect'`).
 * @throws SyntaxError for an invalid URL or subprotocol list; TypeError/RangeError for bad options
 */
export function connectClient<W extends HandshakeTarget>(
  ws: W,
  address: string | URL,
  protocols: readonly unknown[],
  options: ClientOptionsOf<W>,
): void {
  const first = parseUrl(address);
  const version = options.protocolVersion ?? 13;
  if (version !== 13 && version !== 8) {
    throw new RangeError(`Unsupported protocol version: ${String(options.protocolVersion)} (supported versions: 8, 13)`);
  }
  const deflate = resolvePerMessageDeflate(options.perMessageDeflate ?? true);
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p) || seen.has(p)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(p);
  }
  const offered = [...seen];
  const heartbeat = resolveHeartbeat(options.heartbeat);
  const maxRedirects = options.maxRedirects ?? 10;
  if (options.http2 !== undefined && options.http2 !== false && first.protocol !== 'ws+unix:') {
    // RFC 8441 (client-http2.ts), falling back to the HTTP/1.1 path below, which hands `ws` its
    // own request.
    const { ca, rejectUnauthorized, servername, cert, key, checkServerIdentity } = options;
    const request = connectHttp2(ws, {
      url: first, protocols: offered, deflate, heartbeat, handshakeTimeout: options.handshakeTimeout, origin: options.origin, headers: { ...(options.headers ?? {}) },
      tls: Object.fromEntries(Object.entries({ ca, rejectUnauthorized, servername, cert, key, checkServerIdentity }).filter(([, v]) => v !== undefined)), session: options.http2 === true ? undefined : options.http2,
    }, () => connectClient(ws, first, protocols, { ...options, http2: false }));
    ws[kSetRequest](request, first.href, 0);
    return;
  }
  const follow = options.followRedirects === true;
  const passThrough: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!OWN_OPTIONS.has(k)) passThrough[k] = v;

  let redirects = 0;
  let origin: Origin | undefined;
  /** With `followRedirects`, the headers shared by every request (lower-case names), as `ws` keeps them. */
  let followHeaders: Record<string, string> | undefined;

  const open = (target: URL): void => {
    const secure = target.protocol === 'wss:';
    const ipc = target.protocol === 'ws+unix:';
    const key = generateKey(randomBytes(16));
    const requestOptions: https.RequestOptions & Record<string, unknown> = { ...passThrough, method: 'GET', path: target.pathname + target.search };
    // A WebSocket owns its TCP connection for life: never take one from (or give one back to) a
    // keep-alive pool. Node ≥ 19's global agent keeps sockets alive, and a handshake aborted
    // early would leave its socket open there. An application's own agent is still honoured.
    if (passThrough.agent === undefined && passThrough.createConnection === undefined) requestOptions.agent = false;
    if (options.handshakeTimeout !== undefined) requestOptions.timeout = options.handshakeTimeout;
    requestOptions.defaultPort ??= secure ? 443 : 80;
    let socketPath: string | undefined;
    if (ipc) {
      // ws+unix:/path/to.sock:/request/path
      const [path, requestPath] = target.pathname.split(':') as [string, string | undefined];
      socketPath = path;
      requestOptions.socketPath = path;
      requestOptions.path = (requestPath ?? '/') + target.search;
    } else {
      // The host and port as the URL spells them (the port a string), as `ws` hands them to
      // `createConnection`.
      requestOptions.host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
      requestOptions.port = target.port === '' ? (secure ? 443 : 80) : (target.port);
    }
    const urlAuth = target.username !== '' || target.password !== '' ? `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` : undefined;
    let auth = urlAuth ?? options.auth ?? undefined;

    let headers: Record<string, string>;
    if (!follow) {
      headers = { ...(options.headers ?? {}) };
      if (auth !== undefined) requestOptions.auth = auth;
    } else {
      if (followHeaders === undefined) {
        origin = { ipc, secure, hostOrSocketPath: ipc ? socketPath! : target.host };
        followHeaders = {};
        for (const [k, v] of Object.entries(options.headers ?? {})) followHeaders[k.toLowerCase()] = v;
      } else if (ws.listenerCount('redirect') === 0) {
        // Credentials do not follow a redirect to another host, or from wss: to ws: — unless a
        // 'redirect' listener is there to decide (as `ws`).
        const o = origin!;
        const sameHost = ipc ? o.ipc && socketPath === o.hostOrSocketPath : !o.ipc && target.host === o.hostOrSocketPath;
        if (!sameHost || (o.secure && !secure)) {
          delete followHeaders.authorization;
          delete followHeaders.cookie;
          if (!sameHost) delete followHeaders.host;
          auth = undefined;
        }
      }
      if (auth !== undefined && followHeaders.authorization === undefined) {
        followHeaders.authorization = 'Basic ' + Buffer.from(auth).toString('base64');
      }
      headers = { ...followHeaders };
    }
    Object.assign(headers, {
      'Sec-WebSocket-Version': String(version),
      'Sec-WebSocket-Key': key,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
    });
    if (offered.length > 0) headers['Sec-WebSocket-Protocol'] = offered.join(',');
    if (deflate !== undefined) headers['Sec-WebSocket-Extensions'] = formatExtensions([deflateOffer(deflate.negotiation)]);
    if (options.origin !== undefined) headers[version < 13 ? 'Sec-WebSocket-Origin' : 'Origin'] = options.origin;
    requestOptions.headers = headers;

    const req = (secure ? httpsModule.request : httpModule.request)(requestOptions);
    ws[kSetRequest](req, target.href, redirects);

    req.on('timeout', () => {
      ws[kAbortHandshake](new HandshakeError('Opening handshake has timed out', 0, ErrorCode.HANDSHAKE_TIMEOUT));
    });
    req.on('error', (error) => ws[kAbortHandshake](error));
    req.on('response', (res) => {
      const location = res.headers.location;
      const status = res.statusCode ?? 0;
      if (follow && location !== undefined && status >= 300 && status < 400) {
        res.resume();
        if (++redirects > maxRedirects) {
          ws[kSetRequest](req, target.href, redirects);
          ws[kAbortHandshake](new HandshakeError('Maximum redirects exceeded', status));
          return;
        }
        req.destroy();
        let next: URL;
        try {
          try {
            next = new URL(location, target.href);
          } catch {
            throw new SyntaxError(`Invalid URL: ${location}`);
          }
          next = parseUrl(next);
        } catch (error) {
          ws[kSetRequest](req, target.href, redirects);
          ws[kAbortHandshake](error as Error);
          return;
        }
        open(next);
        return;
      }
      if (ws.listenerCount('unexpected-response') > 0) {
        ws.emit('unexpected-response', req, res);
        return;
      }
      res.resume();
      ws[kAbortHandshake](new HandshakeError(`Unexpected server response: ${status}`, status));
    });
    req.on('upgrade', (res: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      ws.emit('upgrade', res);
      if (ws.readyState !== 0) return; // aborted by an 'upgrade' listener
      try {
        const accepted = validateUpgradeResponse(res.statusCode ?? 0, headerLookup(res.headers), key, sha1, offered);
        if (deflate === undefined) {
          if (accepted.extensions.length > 0) {
            throw new HandshakeError('Server sent a Sec-WebSocket-Extensions header but no extension was requested', 101);
          }
          ws[kSetNegotiated](accepted.protocol, '');
        } else {
          // RFC 7692 §5, §7: a response that does not answer our offer fails the connection.
          const agreed = acceptDeflateResponse(accepted.extensions, deflate.negotiation);
          ws[kSetNegotiated](
            accepted.protocol,
            agreed === undefined ? '' : 'permessage-deflate',
            agreed === undefined ? undefined : { params: agreed.params, settings: deflate },
          );
        }
      } catch (error) {
        socket.destroy();
        ws[kAbortHandshake](error as Error);
        return;
      }
      ws[kAttach](socket, head);
      if (heartbeat !== undefined) {
        const watch = new Heartbeat(heartbeat.interval, heartbeat.timeout);
        watch.add(ws);
        ws[kObserveClose](watch);
      }
    });
    // As `ws`: the 'redirect' listener sees the new request before it is sent, and may change
    // its headers or abort it.
    if (redirects > 0) ws.emit('redirect', target.href, req);
    if (options.finishRequest !== undefined) options.finishRequest(req, ws);
    else req.end();
  };
  open(first);
}
