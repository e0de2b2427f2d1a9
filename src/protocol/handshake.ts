/**
 * The opening handshake (RFC 6455 §4), both roles, without I/O: SHA-1 and randomness are passed
 * in by the caller.
 * @packageDocumentation
 */
import { WS_GUID, WS_VERSION } from './constants.js';
import { ErrorCode, HandshakeError } from './errors.js';
import { hasToken, parseExtensions, parseTokenList, type ExtensionOffer } from './header-values.js';

/** Reads one request or response header by its lower-case name. */
export type HeaderLookup = (name: string) => string | undefined;

/** SHA-1 of a string's UTF-8 bytes; the Node layer passes `crypto.createHash('sha1')`. */
export type Sha1 = (input: string) => Uint8Array;

/** What a valid upgrade request asks for. */
export interface UpgradeRequest {
  /** The `Sec-WebSocket-Key` value. */
  key: string;
  /** Subprotocols offered, in the client's order of preference (§4.1, §11.3.4). */
  protocols: string[];
  /** Extensions offered (§9.1). */
  extensions: ExtensionOffer[];
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

/**
 * Whether `key` is a valid `Sec-WebSocket-Key`: the base64 encoding of exactly 16 bytes (§4.1),
 * that is 22 base64 characters followed by `==`.
 */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (!ok) return false;
  }
  return true;
}

/** `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (§4.2.2 step 5.4). */
export function acceptKey(key: string, sha1: Sha1): string {
  return toBase64(sha1(key + WS_GUID));
}

/** A fresh `Sec-WebSocket-Key` from 16 random bytes (§4.1 item 7). */
export function generateKey(random16: Uint8Array): string {
  if (random16.length !== 16) throw new RangeError('a WebSocket key is made from 16 random bytes');
  return toBase64(random16);
}

/**
 * Checks an upgrade request against RFC 6455 §4.2.1.
 * @throws HandshakeError with status 400 for a malformed request, 426 for a version other than 13
 */
export function validateUpgradeRequest(method: string, header: HeaderLookup): UpgradeRequest {
  if (method !== 'GET') throw new HandshakeError('the upgrade request must use GET', 400);
  if (!hasToken(header('upgrade'), 'websocket')) throw new HandshakeError('missing or invalid Upgrade header', 400);
  if (!hasToken(header('connection'), 'upgrade')) throw new HandshakeError('missing or invalid Connection header', 400);
  const key = header('sec-websocket-key');
  if (key === undefined || !isValidKey(key.trim())) throw new HandshakeError('missing or invalid Sec-WebSocket-Key header', 400);
  const version = header('sec-websocket-version');
  if (version === undefined || version.trim() !== String(WS_VERSION)) {
    throw new HandshakeError('unsupported WebSocket version', 426);
  }
  let protocols: string[] = [];
  const protocolHeader = header('sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    const list = parseTokenList(protocolHeader);
    if (list === undefined || list.length === 0 || new Set(list).size !== list.length) {
      throw new HandshakeError('invalid Sec-WebSocket-Protocol header', 400);
    }
    protocols = list;
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = header('sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    const list = parseExtensions(extensionHeader);
    if (list === undefined) throw new HandshakeError('invalid Sec-WebSocket-Extensions header', 400);
    extensions = list;
  }
  return { key: key.trim(), protocols, extensions };
}

/** The reason phrase for statuses the handshake uses. */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  101: 'Switching Protocols',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
});

/**
 * The status line and headers of the 101 response that completes a server handshake
 * (§4.2.2 step 5), one string per line without line ends, so the application may add lines
 * (`ws`'s `headers` event) before they are joined by {@link formatResponseHead}.
 */
export function acceptResponseLines(accept: string, protocol: string | undefined, extensions: string | undefined): string[] {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`];
  if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  if (extensions !== undefined && extensions.length > 0) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return lines;
}

/** Joins response lines into an HTTP head ending in the empty line. */
export function formatResponseHead(lines: readonly string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * A complete HTTP error response that refuses an upgrade. The body is the short public message;
 * internal details never go here.
 */
export function buildErrorResponse(status: number, message?: string, headers: Readonly<Record<string, string>> = {}): string {
  const text = STATUS_TEXT[status] ?? 'Error';
  const body = message ?? text;
  let s = `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${new TextEncoder().encode(body).length}\r\n`;
  if (status === 426) s += `Sec-WebSocket-Version: ${WS_VERSION}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return s + '\r\n' + body;
}

/** What the client learns from a valid 101 response. */
export interface UpgradeResponse {
  /** The subprotocol the server chose, or '' when none (WHATWG `protocol`). */
  protocol: string;
  /** Extensions the server accepted. */
  extensions: ExtensionOffer[];
}

/**
 * Checks the server's 101 response against RFC 6455 §4.1 (client steps 1–6).
 * @param offeredProtocols - subprotocols the client sent; the server may pick one or none
 * @throws HandshakeError naming what was wrong
 */
export function validateUpgradeResponse(status: number, header: HeaderLookup, key: string, sha1: Sha1, offeredProtocols: readonly string[]): UpgradeResponse {
  if (status !== 101) throw new HandshakeError(`unexpected server response: ${status}`, status);
  if (!hasToken(header('upgrade'), 'websocket')) throw new HandshakeError('invalid Upgrade header in the response', status);
  if (!hasToken(header('connection'), 'upgrade')) throw new HandshakeError('invalid Connection header in the response', status);
  if (header('sec-websocket-accept')?.trim() !== acceptKey(key, sha1)) {
    throw new HandshakeError('invalid Sec-WebSocket-Accept header', status, ErrorCode.HANDSHAKE_FAILED);
  }
  let protocol = '';
  const p = header('sec-websocket-protocol');
  if (p !== undefined) {
    protocol = p.trim();
    if (!offeredProtocols.includes(protocol)) throw new HandshakeError('server sent a subprotocol that was not offered', status);
  }
  let extensions: ExtensionOffer[] = [];
  const e = header('sec-websocket-extensions');
  if (e !== undefined) {
    const list = parseExtensions(e);
    if (list === undefined) throw new HandshakeError('invalid Sec-WebSocket-Extensions header in the response', status);
    extensions = list;
  }
  return { protocol, extensions };
}
