/**
 * What the server and client sides of RFC 8441 share about an `Http2Stream` carrying a WebSocket.
 * @packageDocumentation
 */
import type * as Http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { HeaderLookup } from '../protocol/index.js';

/** RST_STREAM CANCEL (RFC 9113 §7): RFC 8441 §5 maps a TCP reset to it. */
export const NGHTTP2_CANCEL = 0x8;

/** Whether a socket handed to `handleUpgrade` is a server-side `Http2Stream` (RFC 8441) rather than a TCP socket. */
export function isHttp2Stream(socket: Duplex): socket is Http2.ServerHttp2Stream {
  return typeof (socket as { respond?: unknown }).respond === 'function' && (socket as { session?: unknown }).session !== undefined;
}

/** Reads HTTP/2 headers (a null-prototype object) by lower-case name, arrays joined as HTTP/1.1 would. */
export function http2HeaderLookup(headers: Http2.IncomingHttpHeaders): HeaderLookup {
  return (name) => {
    if (!Object.hasOwn(headers, name)) return undefined;
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

/**
 * Makes `stream.destroy()` reset the stream with CANCEL. RFC 8441 §5: an abortive close of the
 * WebSocket (what a TCP RST is on HTTP/1.1) is RST_STREAM with CANCEL; `WebSocket` aborts with
 * `destroy()`, which Node turns into RST_STREAM NO_ERROR. One shared function, not a closure per stream.
 */
export function resetWithCancelOnDestroy(stream: Http2.Http2Stream): void {
  stream.destroy = destroyWithCancel;
}

/**
 * Set on a stream answered with a refusal (a status and a body): destroying it then must not
 * reset it, which would discard the queued response (`ws`-style listeners write a refusal and
 * destroy the socket at once). The stream closes itself once the response is sent.
 */
export const kRefused = Symbol('parley.refused');

function destroyWithCancel(this: Http2.Http2Stream & { [kRefused]?: boolean }, error?: Error): Http2.Http2Stream {
  if (this[kRefused] === true && !this.writableFinished && !this.destroyed && error === undefined) return this;
  if (!this.closed && !this.destroyed) this.close(NGHTTP2_CANCEL);
  return (Object.getPrototypeOf(this) as Http2.Http2Stream).destroy.call(this, error);
}

/** Header names HTTP/2 forbids (RFC 9113 §8.2.2): dropped from anything copied onto a stream. */
export function isConnectionSpecific(name: string): boolean {
  return name === 'connection' || name === 'upgrade' || name === 'keep-alive' || name === 'proxy-connection' || name === 'transfer-encoding' || name === 'host';
}
