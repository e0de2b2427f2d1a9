/**
 * What the opening handshake of a `WebSocket` (websocket.ts) set: the URL, the subprotocol and
 * extensions agreed (RFC 6455 §4.1, §9.1), the client's request and redirects while it runs, and
 * permessage-deflate's parameters until the socket is attached.
 *
 * One record, created only when something differs from the defaults: most server connections (no
 * subprotocol, no extension) have none, and read the defaults through the getters.
 * @packageDocumentation
 */
import type { ClientRequest } from 'node:http';
import type { DeflateSetup } from './deflate-codec.js';
import { kHandshake } from './internal.js';

/** What the opening handshake set. */
export interface HandshakeRecord {
  /** The URL connected to (client). */
  url: string;
  /** The subprotocol the server selected. */
  protocol: string;
  /** The negotiated extensions, as in the response header. */
  extensions: string;
  /** Client side: the handshake request, until the upgrade. */
  request: ClientRequest | undefined;
  /** Client side: redirects followed so far. */
  redirects: number;
  /** permessage-deflate as agreed, until the socket is attached and its codec made. */
  deflateSetup: DeflateSetup | undefined;
}

/** The connection's field that holds the record (internal.ts). */
export interface HandshakeHost {
  [kHandshake]: HandshakeRecord | undefined;
}

function recordOf(ws: HandshakeHost): HandshakeRecord {
  return (ws[kHandshake] ??= { url: '', protocol: '', extensions: '', request: undefined, redirects: 0, deflateSetup: undefined });
}

/** The client handshake made `request` to `url`, after `redirects` redirects (`url`, `_req`, `_redirects`). */
export function setRequest(ws: HandshakeHost, request: ClientRequest, url: string, redirects: number): void {
  const record = recordOf(ws);
  record.request = request;
  record.url = url;
  record.redirects = redirects;
}

/** Records what the handshake negotiated (and permessage-deflate's parameters, if agreed). */
export function setNegotiated(ws: HandshakeHost, protocol: string, extensions: string, deflate: DeflateSetup | undefined): void {
  // The common server case, all defaults, needs no record.
  if (protocol === '' && extensions === '' && deflate === undefined && ws[kHandshake] === undefined) return;
  const record = recordOf(ws);
  record.protocol = protocol;
  record.extensions = extensions;
  record.deflateSetup = deflate;
}

/** Client side: the handshake request in flight, handed over (and forgotten) to be aborted or upgraded. */
export function takeRequest(ws: HandshakeHost): ClientRequest | undefined {
  const record = ws[kHandshake];
  const request = record?.request;
  if (record !== undefined) record.request = undefined;
  return request;
}

/**
 * At the upgrade: the request is no longer in flight, and permessage-deflate's parameters are
 * handed over (and forgotten) to make the codec.
 */
export function takeDeflateSetup(ws: HandshakeHost): DeflateSetup | undefined {
  const record = ws[kHandshake];
  if (record === undefined) return undefined;
  const setup = record.deflateSetup;
  record.request = undefined;
  record.deflateSetup = undefined;
  return setup;
}
