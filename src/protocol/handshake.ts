/**
 * The opening handshake (RFC 6455 §4), both roles, without I/O: SHA-1 and randomness are passed
 * in by the caller.
 * @packageDocumentation
 */
import { WS_GUID } from './constants.js';
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
 * Protocol versions a server accepts: 13 (RFC 6455) and 8, the last draft (hybi-08), whose
 * framing and handshake are the same and which `ws` accepts too (RFC 6455 §4.4 lets a server
 * speak several versions).
 */
export const SUPPORTED_VERSIONS: readonly string[] = Object.freeze(['13', '8']);

/**
 * Refusal messages of the server handshake. They are `ws`'s, word for word, because applications
 * written for `ws` match on them (in `wsClientError` listeners and in tests).
 */
export const RequestRefusal = {
  METHOD: 'Invalid HTTP method',
  UPGRADE: 'Invalid Upgrade header',
  CONNECTION: 'Invalid Connection header',
  KEY: 'Missing or invalid Sec-WebSocket-Key header',
  VERSION: 'Missing or invalid Sec-WebSocket-Version header',
  PROTOCOL: 'Invalid Sec-WebSocket-Protocol header',
  EXTENSIONS: 'Invalid or unacceptable Sec-WebSocket-Extensions header',
} as const;

/**
 * Checks an upgrade request against RFC 6455 §4.2.1.
 * @throws HandshakeError with status 405 for a method other than GET, 400 for a malformed
 * request or a version other than 13 or 8 (the 400 carries `Sec-WebSocket-Version: 13, 8`, as in
 * RFC 6455 §4.4's example; see {@link buildErrorResponse})
 */
export function validateUpgradeRequest(method: string, header: HeaderLookup): UpgradeRequest {
  if (method !== 'GET') throw new HandshakeError(RequestRefusal.METHOD, 405);
  if (!hasToken(header('upgrade'), 'websocket')) throw new HandshakeError(RequestRefusal.UPGRADE, 400);
  if (!hasToken(header('connection'), 'upgrade')) throw new HandshakeError(RequestRefusal.CONNECTION, 400);
  const key = header('sec-websocket-key');
  if (key === undefined || !isValidKey(key.trim())) throw new HandshakeError(RequestRefusal.KEY, 400);
  const version = header('sec-websocket-version');
  if (version === undefined || !SUPPORTED_VERSIONS.includes(version.trim())) {
    throw new HandshakeError(RequestRefusal.VERSION, 400);
  }
  let protocols: string[] = [];
  const protocolHeader = header('sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    const list = parseTokenList(protocolHeader);
    if (list === undefined || list.length === 0 || new Set(list).size !== list.length) {
      throw new HandshakeError(RequestRefusal.PROTOCOL, 400);
    }
    protocols = list;
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = header('sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    const list = parseExtensions(extensionHeader);
    if (list === undefined) throw new HandshakeError(RequestRefusal.EXTENSIONS, 400);
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
  // RFC 6455 §4.4: a refused version is answered with the versions the server speaks.
  if (status === 426 || message === RequestRefusal.VERSION) s += `Sec-WebSocket-Version: ${SUPPORTED_VERSIONS.join(', ')}\r\n`;
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
 * Checks the server's 101 response against RFC 6455 §4.1 (client steps 1–6). The messages are
 * `ws`'s, word for word: applications match on them.
 * @param offeredProtocols - subprotocols the client sent; when it sent any, the server must
 * select one of them (as `ws` requires)
 * @throws HandshakeError naming what was wrong
 */
export function validateUpgradeResponse(status: number, header: HeaderLookup, key: string, sha1: Sha1, offeredProtocols: readonly string[]): UpgradeResponse {
  if (status !== 101) throw new HandshakeError(`Unexpected server response: ${status}`, status);
  if (!hasToken(header('upgrade'), 'websocket')) throw new HandshakeError('Invalid Upgrade header', status);
  if (!hasToken(header('connection'), 'upgrade')) throw new HandshakeError('Invalid Connection header', status);
  if (header('sec-websocket-accept')?.trim() !== acceptKey(key, sha1)) {
    throw new HandshakeError('Invalid Sec-WebSocket-Accept header', status, ErrorCode.HANDSHAKE_FAILED);
  }
  let protocol = '';
  const p = header('sec-websocket-protocol');
  if (p !== undefined) {
    protocol = p.trim();
    // §4.1 step 6: a subprotocol that was not offered fails the connection.
    if (offeredProtocols.length === 0) throw new HandshakeError('Server sent a subprotocol but none was requested', status);
    if (!offeredProtocols.includes(protocol)) throw new HandshakeError('Server sent an invalid subprotocol', status);
  } else if (offeredProtocols.length > 0) {
    throw new HandshakeError('Server sent no subprotocol', status);
  }
  let extensions: ExtensionOffer[] = [];
  const e = header('sec-websocket-extensions');
  if (e !== undefined) {
    const list = parseExtensions(e);
    if (list === undefined) throw new HandshakeError('Invalid Sec-WebSocket-Extensions header', status);
    extensions = list;
  }
  return { protocol, extensions };
}
