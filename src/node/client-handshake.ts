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
import { resolvePerMessageDeflate } from './deflate-codec.js';
import type { PerMessageDeflateOptions } from './deflate-codec.js';
import { Heartbeat } from './heartbeat.js';
import { httpModule, httpsModule } from './node-http.js';
import { kAbortHandshake, kAttach, kObserveClose, kSetNegotiated, kSetUrl } from './internal.js';
import { resolveHeartbeat, type ConnectionOptions, type HeartbeatOptions } from './settings.js';
import type { WebSocket } from './websocket.js';
import type { WsClientCompatOptions } from './ws-types.js';

/** Client options: `ws`'s, plus Parley's connection options. Other `http.request` options pass through. */
export interface ClientOptions extends ConnectionOptions, WsClientCompatOptions<WebSocket>, Omit<https.RequestOptions, 'headers' | 'timeout' | 'protocol' | 'host' | 'hostname' | 'port' | 'path' | 'method' | 'createConnection'> {
  /** Ms allowed for the opening handshake. Default: none (as `ws`). */
  handshakeTimeout?: number;
  /** Only 13 is supported (RFC 6455 §4.1). */
  protocolVersion?: number;
  /** Value of the `Origin` header. */
  origin?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Follow 3xx redirects. Default false. */
  followRedirects?: boolean;
  /** Most redirects to follow. Default 10. */
  maxRedirects?: number;
  /**
   * Offer permessage-deflate (RFC 7692): `true` for the defaults, or options (see
   * docs/permessage-deflate.md). Default false: nothing is offered (`ws` offers it by default).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Ping the server when it has been silent, and close when it stays silent. */
  heartbeat?: HeartbeatOptions;
  /** Accepted for `ws` compatibility; Parley always delivers messages synchronously as they parse. */
  allowSynchronousEvents?: boolean;
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

/**
 * Starts the client handshake for `ws`.
 * @returns the normalised URL and the pending request
 * @throws SyntaxError for an invalid URL or subprotocol list; TypeError/RangeError for bad options
 */
export function connectClient(
  ws: WebSocket,
  address: string | URL,
  protocols: readonly string[],
  options: ClientOptions,
): { url: string; request: http.ClientRequest } {
  const url = parseUrl(address);
  if (options.protocolVersion !== undefined && options.protocolVersion !== 13) {
    throw new RangeError(`Unsupported protocol version: ${options.protocolVersion} (supported versions: 13)`);
  }
  const deflate = resolvePerMessageDeflate(options.perMessageDeflate);
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p) || seen.has(p)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(p);
  }
  const heartbeat = resolveHeartbeat(options.heartbeat);
  const maxRedirects = options.maxRedirects ?? 10;
  let redirects = 0;

  const start = (target: URL, inheritedHeaders: Record<string, string>): http.ClientRequest => {
    const secure = target.protocol === 'wss:';
    const key = generateKey(randomBytes(16));
    const {
      handshakeTimeout, origin, headers: _headers, followRedirects, maxRedirects: _max, perMessageDeflate: _pmd,
      heartbeat: _hb, protocolVersion: _pv, maxPayload: _mp, maxFragments: _mf, skipUTF8Validation: _su,
      autoPong: _ap, maxBufferedAmount: _mb, bufferOverflow: _bo, closeTimeout: _ct, allowSynchronousEvents: _ase,
      ...passThrough
    } = options;
    const headers: Record<string, string> = {
      ...inheritedHeaders,
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
    };
    if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(',');
    if (deflate !== undefined) headers['Sec-WebSocket-Extensions'] = formatExtensions([deflateOffer(deflate.negotiation)]);
    if (origin !== undefined) headers.Origin = origin;
    const requestOptions: https.RequestOptions = {
      // `createConnection` may be `net.createConnection` or `tls.connect` themselves (as `ws`
      // allows): `http.request` calls it with its own options object, which both accept.
      ...(passThrough as Omit<typeof passThrough, 'createConnection'> & Pick<https.RequestOptions, 'createConnection'>),
      headers,
      method: 'GET',
      path: target.pathname + target.search,
    };
    // A WebSocket owns its TCP connection for life: never take one from (or give one back to) a
    // keep-alive pool. Node ≥ 19's global agent keeps sockets alive, and a handshake aborted
    // early would leave its socket open there. An application's own agent is still honoured.
    if (passThrough.agent === undefined && passThrough.createConnection === undefined) requestOptions.agent = false;
    if (handshakeTimeout !== undefined) requestOptions.timeout = handshakeTimeout;
    if (target.protocol === 'ws+unix:') {
      // ws+unix:/path/to.sock:/request/path
      const [socketPath, requestPath] = target.pathname.split(':') as [string, string | undefined];
      requestOptions.socketPath = socketPath;
      requestOptions.path = (requestPath ?? '/') + target.search;
    } else {
      requestOptions.hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
      requestOptions.port = target.port === '' ? (secure ? 443 : 80) : Number(target.port);
      if (target.username !== '' || target.password !== '') {
        requestOptions.auth = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
      }
    }
    const req = (secure ? httpsModule.request : httpModule.request)(requestOptions);

    req.on('timeout', () => {
      ws[kAbortHandshake](new HandshakeError('Opening handshake has timed out', 0, ErrorCode.HANDSHAKE_TIMEOUT));
    });
    req.on('error', (error) => ws[kAbortHandshake](error));
    req.on('response', (res) => {
      const location = res.headers.location;
      const status = res.statusCode ?? 0;
      if (followRedirects === true && location !== undefined && status >= 300 && status < 400) {
        res.resume();
        req.destroy();
        if (++redirects > maxRedirects) {
          ws[kAbortHandshake](new HandshakeError('Maximum redirects exceeded', status));
          return;
        }
        let next: URL;
        try {
          next = parseUrl(new URL(location, target.href.replace(/^ws/, 'http')));
        } catch (error) {
          ws[kAbortHandshake](error as Error);
          return;
        }
        // Credentials are not carried to another host.
        const keep = next.host === target.host ? inheritedHeaders : stripAuth(inheritedHeaders);
        ws[kSetUrl](next.href);
        ws.emit('redirect', next.href, req);
        current.request = start(next, keep);
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
        const accepted = validateUpgradeResponse(res.statusCode ?? 0, headerLookup(res.headers), key, sha1, protocols);
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
            agreed === undefined ? '' : (res.headers['sec-websocket-extensions'] as string).trim(),
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
    req.end();
    return req;
  };

  const current = { request: start(url, { ...(options.headers ?? {}) }) };
  // The WebSocket aborts through this proxy, so a redirect's new request is the one destroyed.
  const proxy = {
    abort: () => current.request.destroy(),
    destroy: (error?: Error) => current.request.destroy(error),
  } as unknown as http.ClientRequest;
  return { url: url.href, request: proxy };
}

function stripAuth(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const lower = k.toLowerCase();
    if (lower !== 'authorization' && lower !== 'cookie' && lower !== 'host') out[k] = v;
  }
  return out;
}
