/**
 * The Node side of the server's opening handshake (RFC 6455 §4.2): reading the request's headers,
 * the `Sec-WebSocket-Accept` value, refusing an upgrade, and what port mode answers a request
 * that is no upgrade at all. The checks themselves are pure (src/protocol/handshake.ts); the
 * order they run in is `WebSocketServer.handleUpgrade`.
 * @packageDocumentation
 */
import * as crypto from 'node:crypto';
import { Buffer } from 'node:buffer';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WS_GUID, type HeaderLookup } from '../protocol/index.js';
import { refuseUpgrade } from './refuse-upgrade.js';

/**
 * `Sec-WebSocket-Accept` for `key` (RFC 6455 §4.2.2): the protocol core's `acceptKey` with
 * Node's one-shot hash and base64, about 0.9 µs against 3.9 µs (a test checks they agree).
 * `crypto.hash` is Node 20.12+; older versions take `createHash`.
 */
export function serverAcceptKey(key: string): string {
  const input = key + WS_GUID;
  return typeof crypto.hash === 'function' ? crypto.hash('sha1', input, 'base64') : crypto.createHash('sha1').update(input).digest('base64');
}

/** The protocol core's view of a Node request's headers: one string per name, repeated ones joined by ', '. */
export function headerLookup(headers: http.IncomingHttpHeaders): HeaderLookup {
  // Own properties only: header names such as `__proto__` or `constructor` are plain strings
  // (bad-input guide §4).
  return (name) => {
    if (!Object.hasOwn(headers, name)) return undefined;
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

/** The 'error' listener of a socket being upgraded: one shared function, not a closure per handshake. */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** `verifyClient`'s extra refusal headers as text: numbers as digits, lists joined by ', ' (RFC 9110 §5.3); unset ones left out. */
function headerValues(headers: http.OutgoingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** Refuses an upgrade with an HTTP error response and closes the socket. */
export function abortHandshake(socket: Duplex, status: number, message?: string, headers?: http.OutgoingHttpHeaders): void {
  refuseUpgrade(socket, status, message, headers === undefined ? undefined : headerValues(headers));
}

/**
 * The request listener of the server's own HTTP server (port mode). Node routes a request here
 * when it lacks the Upgrade/Connection tokens. One that carries a WebSocket key is a broken
 * upgrade (400); anything else is plain HTTP (426, RFC 6455 §4.2.2 names the version it wants).
 * Either way the connection closes (bad-input guide §1).
 */
export function answerPlainRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const broken = req.headers['sec-websocket-key'] !== undefined;
  const status = broken ? 400 : 426;
  const body = broken ? 'missing or invalid Upgrade/Connection header' : 'Upgrade Required';
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'Content-Length': Buffer.byteLength(body),
    'Content-Type': 'text/plain; charset=utf-8',
    Connection: 'close',
    ...(broken ? {} : { 'Sec-WebSocket-Version': '13' }),
  });
  res.end(body);
}
