/**
 * The opening handshake of a WebSocket over HTTP/2 (RFC 8441), both roles, without I/O.
 *
 * RFC 8441 §4 replaces the HTTP/1.1 upgrade with an "extended CONNECT" request on one stream:
 * `:method` CONNECT with a `:protocol` pseudo-header of `websocket`, and a 2xx response. §5 drops
 * `Sec-WebSocket-Key`/`Sec-WebSocket-Accept` (the stream itself proves the server understood) and
 * the connection-specific `Upgrade`/`Connection` headers; `Sec-WebSocket-Version`,
 * `-Protocol` and `-Extensions` keep their RFC 6455 meaning.
 * @packageDocumentation
 */
import { WS_VERSION } from './constants.js';
import { HandshakeError } from './errors.js';
import type { HeaderLookup, UpgradeRequest, UpgradeResponse } from './handshake.js';
import { parseExtensions, parseTokenList, type ExtensionOffer } from './header-values.js';

/**
 * Whether HTTP/2 request headers are an RFC 8441 extended CONNECT for a WebSocket: `:method`
 * CONNECT and `:protocol` websocket (a token from the Upgrade registry, compared without case,
 * RFC 8441 §4 and RFC 9110 §7.8).
 */
export function isExtendedConnect(header: HeaderLookup): boolean {
  return header(':method') === 'CONNECT' && header(':protocol')?.toLowerCase() === 'websocket';
}

/**
 * Checks an RFC 8441 extended CONNECT request. Its `key` is '' (there is none, §5).
 * @throws HandshakeError with status 400 for a malformed request or a version other than 13
 *   (HTTP/2 has no 426 upgrade path; the response carries `sec-websocket-version: 13`)
 */
export function validateExtendedConnect(header: HeaderLookup): UpgradeRequest {
  if (!isExtendedConnect(header)) throw new HandshakeError('not an extended CONNECT for the websocket protocol', 400);
  // RFC 8441 §4: :scheme and :path are required on an extended CONNECT, unlike a plain CONNECT.
  if (header(':path') === undefined || header(':scheme') === undefined) throw new HandshakeError('missing :path or :scheme', 400);
  const version = header('sec-websocket-version');
  if (version === undefined || version.trim() !== String(WS_VERSION)) throw new HandshakeError('unsupported WebSocket version', 400);
  return { key: '', protocols: parseProtocols(header('sec-websocket-protocol'), 400), extensions: parseOffers(header('sec-websocket-extensions'), 400) };
}

/**
 * The response headers that accept an extended CONNECT (RFC 8441 §5: a 200, with the chosen
 * subprotocol and extensions as in RFC 6455 §4.2.2).
 */
export function extendedConnectResponseHeaders(protocol: string | undefined, extensions: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { ':status': '200' };
  if (protocol !== undefined) headers['sec-websocket-protocol'] = protocol;
  if (extensions !== undefined && extensions.length > 0) headers['sec-websocket-extensions'] = extensions;
  return headers;
}

/**
 * Checks the server's response to an extended CONNECT: any 2xx accepts (RFC 8441 §5, RFC 9110
 * §9.3.6), and the subprotocol must be one offered (RFC 6455 §4.1).
 * @throws HandshakeError naming what was wrong
 */
export function validateExtendedConnectResponse(status: number, header: HeaderLookup, offeredProtocols: readonly string[]): UpgradeResponse {
  if (status < 200 || status > 299) throw new HandshakeError(`unexpected server response: ${status}`, status);
  let protocol = '';
  const p = header('sec-websocket-protocol');
  if (p !== undefined) {
    protocol = p.trim();
    if (!offeredProtocols.includes(protocol)) throw new HandshakeError('server sent a subprotocol that was not offered', status);
  }
  return { protocol, extensions: parseOffers(header('sec-websocket-extensions'), status) };
}

function parseProtocols(value: string | undefined, status: number): string[] {
  if (value === undefined) return [];
  const list = parseTokenList(value);
  if (list === undefined || list.length === 0 || new Set(list).size !== list.length) throw new HandshakeError('invalid Sec-WebSocket-Protocol header', status);
  return list;
}

function parseOffers(value: string | undefined, status: number): ExtensionOffer[] {
  if (value === undefined) return [];
  const list = parseExtensions(value);
  if (list === undefined) throw new HandshakeError('invalid Sec-WebSocket-Extensions header', status);
  return list;
}
