/**
 * The events of `WebSocket` and `WebSocketServer` and their listeners' arguments, as `ws` 8
 * emits them (and `@types/ws` types them), plus Parley's `'drain'`. Types only.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData } from './ws-types.js';

/** `WebSocket`'s events: name to listener arguments. */
export interface WebSocketEvents {
  /** The opening handshake completed. */
  open: [];
  /** A message: its bytes (`binaryType` decides the form) and whether it was binary. */
  message: [data: RawData, isBinary: boolean];
  /** The connection closed: the peer's close code (1005 none, 1006 no close frame) and reason. */
  close: [code: number, reason: Buffer];
  /** An error; 'close' follows. */
  error: [error: Error];
  /** A ping arrived (answered automatically unless `autoPong` is false). */
  ping: [data: Buffer];
  /** A pong arrived. */
  pong: [data: Buffer];
  /** Client: the server's 101 response, before 'open'. */
  upgrade: [response: http.IncomingMessage];
  /** Client: the server answered with something other than 101. */
  'unexpected-response': [request: http.ClientRequest, response: http.IncomingMessage];
  /** Client: a redirect is being followed (`followRedirects`). */
  redirect: [url: string, request: http.ClientRequest];
  /** Parley: the socket's buffer drained below its high-water mark after `send()` returned false. */
  drain: [];
}

/**
 * `WebSocketServer`'s events for connections of type `W` and requests of type `R`: name to
 * listener arguments.
 */
export interface WebSocketServerEvents<W, R extends http.IncomingMessage> {
  /** A connection opened. */
  connection: [socket: W, request: R];
  /** The HTTP server failed (port mode or attached). */
  error: [error: Error];
  /** The response header lines about to be written; push to add some. */
  headers: [headers: string[], request: R];
  /** The server closed. */
  close: [];
  /** The HTTP server is listening. */
  listening: [];
  /** A malformed upgrade request, when listened for: the listener answers it on `socket`. */
  wsClientError: [error: Error, socket: Duplex, request: R];
}
