/**
 * Refusing a WebSocket upgrade: the one way every layer answers an upgrade it will not complete
 * (the Node layer's `WebSocketServer`, the standalone server's admission and routing).
 * @packageDocumentation
 */
import type { Duplex } from 'node:stream';
import { buildErrorResponse } from '../protocol/index.js';
import { isHttp2Stream, refuseStream } from './http2-server.js';

/**
 * Answers an upgrade with an HTTP error response and closes the socket once it is written. On an
 * HTTP/1.1 socket that is a complete response with `Connection: close` (RFC 6455 §4.2.2: any
 * status other than 101 refuses the handshake); on an HTTP/2 extended CONNECT stream (RFC 8441)
 * it is the stream's response. A socket that can no longer be written is destroyed.
 * @param status - the HTTP status (400, 403, 404, 408, 429, 503, …)
 * @param message - the short public body; the status text when absent
 * @param headers - extra headers (`Retry-After`)
 */
export function refuseUpgrade(socket: Duplex, status: number, message?: string, headers?: Readonly<Record<string, string>>): void {
  if (isHttp2Stream(socket)) {
    refuseStream(socket, status, message, headers);
    return;
  }
  if (socket.writable) {
    socket.once('finish', () => socket.destroy());
    socket.end(buildErrorResponse(status, message, headers));
  } else {
    socket.destroy();
  }
}
