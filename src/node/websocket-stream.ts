/**
 * `WebSocketStream`: the WHATWG streams-based WebSocket client (the proposal Chromium ships,
 * https://github.com/ricea/websocketstream-explainer), on Parley's Node `WebSocket`.
 *
 * Backpressure both ways, which the event API cannot give: the readable side pauses reading from
 * the socket (TCP or HTTP/2 flow control then holds the peer back) while its queue is full, and a
 * write resolves only when its bytes have been handed to the socket, so `await writer.write()` or
 * `pipeTo` never lets a slow network buffer without bound.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { ReadableStream, WritableStream, type QueuingStrategy } from 'node:stream/web';
import { CloseCode } from '../protocol/index.js';
import type { ClientOptions } from './websocket.js';
import { WebSocket } from './websocket.js';

/** What {@link WebSocketStream.opened} resolves with. */
export interface WebSocketOpenInfo {
  /** Messages from the server: a `string` for text, a `Uint8Array` for binary. */
  readable: ReadableStream<string | Uint8Array>;
  /** Messages to the server: a `string` is sent as text, an `ArrayBuffer` or view as binary. */
  writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  /** The subprotocol the server chose, or ''. */
  protocol: string;
  /** The extensions agreed, as in `Sec-WebSocket-Extensions`. */
  extensions: string;
}

/** What {@link WebSocketStream.closed} resolves with after a clean close. */
export interface WebSocketCloseInfo {
  /** The close code the server sent (1005 when it sent none). */
  closeCode: number;
  /** The reason the server sent. */
  reason: string;
}

/** Options of {@link WebSocketStream}: the proposal's, plus Parley's client options (e.g. `http2`, `ca`). */
export interface WebSocketStreamOptions extends ClientOptions {
  /** Subprotocols to offer. */
  protocols?: string[];
  /** Aborts the opening handshake; no effect once open (use `close()`). */
  signal?: AbortSignal;
  /** Messages the readable side queues before it stops reading from the socket. Default 16. */
  readableHighWaterMark?: number;
}

/**
 * The error `closed` rejects with (and the readable and writable sides error with) when the
 * connection did not close cleanly; also what a stream is cancelled or aborted with to choose the
 * close code and reason.
 */
export class WebSocketError extends DOMException {
  /** The close code, or null. */
  readonly closeCode: number | null;
  /** The close reason. */
  readonly reason: string;
  /**
   * @param message - the error message
   * @param init - the close code and reason it carries
   * @throws DOMException InvalidAccessError for a code that may not be sent; SyntaxError for a reason over 123 bytes
   */
  constructor(message = '', init: { closeCode?: number; reason?: string } = {}) {
    super(message, 'WebSocketError');
    const { closeCode, reason = '' } = init;
    validateClose(closeCode, reason);
    this.closeCode = closeCode ?? (reason !== '' ? CloseCode.Normal : null);
    this.reason = reason;
  }
}

/** The close codes a client may send (WHATWG WebSockets: 1000 or 3000–4999), and the reason limit (RFC 6455 §5.5). */
function validateClose(closeCode: number | undefined, reason: string): void {
  if (closeCode !== undefined && closeCode !== CloseCode.Normal && !(Number.isInteger(closeCode) && closeCode >= 3000 && closeCode <= 4999)) {
    throw new DOMException(`close code must be 1000 or 3000-4999, got ${closeCode}`, 'InvalidAccessError');
  }
  if (Buffer.byteLength(reason) > 123) throw new DOMException('close reason must be at most 123 bytes of UTF-8', 'SyntaxError');
}

/** Closes `ws` with the code and reason a cancel/abort `reason` carries (a {@link WebSocketError}), or none. */
function closeWith(ws: WebSocket, reason: unknown): void {
  if (reason instanceof WebSocketError && reason.closeCode !== null) ws.close(reason.closeCode, reason.reason);
  else ws.close();
}

/** A streams-based WebSocket client (WHATWG `WebSocketStream`). */
export class WebSocketStream {
  /** The URL connected to. */
  readonly url: string;
  /** Resolves once open; rejects when the handshake fails or is aborted. */
  readonly opened: Promise<WebSocketOpenInfo>;
  /** Resolves after a clean close; rejects with a {@link WebSocketError} (code 1006) otherwise. */
  readonly closed: Promise<WebSocketCloseInfo>;
  readonly #ws: WebSocket;

  /**
   * @param url - `ws:` or `wss:` URL
   * @param options - subprotocols, an abort signal, and Parley client options
   * @throws SyntaxError for an invalid URL or subprotocol list
   */
  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    const { protocols = [], signal, readableHighWaterMark = 16, ...clientOptions } = options;
    if (!(readableHighWaterMark >= 1)) throw new RangeError('readableHighWaterMark must be at least 1');
    if (signal?.aborted === true) {
      // Nothing is opened; both promises carry the abort reason (handled, so nothing is reported unhandled).
      this.url = String(url);
      this.opened = Promise.reject(signal.reason as Error);
      this.closed = Promise.reject(signal.reason as Error);
      this.opened.catch(() => {});
      this.closed.catch(() => {});
      this.#ws = undefined as unknown as WebSocket;
      return;
    }
    const ws = new WebSocket(url, protocols, clientOptions);
    this.#ws = ws;
    this.url = ws.url;
    ws.binaryType = 'nodebuffer';

    let readable: ReadableStreamDefaultControllerLike | undefined;
    let writableError: ((e: unknown) => void) | undefined;
    let isOpen = false;
    this.opened = new Promise<WebSocketOpenInfo>((resolve, reject) => {
      const onAbort = (): void => {
        if (!isOpen) ws.terminate();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('open', () => {
        isOpen = true;
        signal?.removeEventListener('abort', onAbort);
        const strategy: QueuingStrategy<string | Uint8Array> = { highWaterMark: readableHighWaterMark };
        const r = new ReadableStream<string | Uint8Array>({
          start(controller) {
            readable = controller;
          },
          pull() {
            // The consumer has room again: read from the socket again.
            if (ws.isPaused && ws.readyState === WebSocket.OPEN) ws.resume();
          },
          cancel(reason) {
            closeWith(ws, reason);
          },
        }, strategy);
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          const c = readable;
          if (c === undefined) return;
          c.enqueue(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'));
          // The queue is full: stop reading, so the transport's flow control reaches the server.
          if ((c.desiredSize ?? 1) <= 0 && ws.readyState === WebSocket.OPEN && !ws.isPaused) ws.pause();
        });
        const w = new WritableStream<string | ArrayBuffer | ArrayBufferView>({
          start(controller) {
            writableError = (e) => controller.error(e);
          },
          write(chunk) {
            let data: string | Buffer;
            if (typeof chunk === 'string') data = chunk;
            else if (chunk instanceof ArrayBuffer) data = Buffer.from(chunk);
            else if (ArrayBuffer.isView(chunk)) data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            else throw new TypeError('a WebSocketStream writes strings, ArrayBuffers and ArrayBuffer views');
            // Resolves when the bytes are in the socket: the writer's backpressure is the network's.
            return new Promise<void>((done, fail) => {
              ws.send(data, { binary: typeof data !== 'string' }, (error) => (error === undefined || error === null ? done() : fail(error)));
            });
          },
          close() {
            ws.close();
          },
          abort(reason) {
            closeWith(ws, reason);
          },
        });
        resolve({ readable: r, writable: w, protocol: ws.protocol, extensions: ws.extensions });
      });
      ws.once('close', () => {
        signal?.removeEventListener('abort', onAbort);
        if (!isOpen) reject(signal?.aborted === true ? (signal.reason as Error) : new WebSocketError('the WebSocket could not be opened', { closeCode: undefined }));
      });
    });
    this.closed = new Promise<WebSocketCloseInfo>((resolve, reject) => {
      ws.on('error', () => {}); // reported through `opened`/`closed`, not as an unhandled 'error'
      ws.once('close', (code: number, reason: Buffer) => {
        const text = reason.toString('utf8');
        if (code === CloseCode.Abnormal || !isOpen) {
          const error = isOpen ? new WebSocketError('the connection was closed abnormally') : (signal?.aborted === true ? signal.reason as Error : new WebSocketError('the WebSocket could not be opened'));
          Object.defineProperty(error, 'closeCode', { value: CloseCode.Abnormal });
          try { readable?.error(error); } catch { /* already closed or errored */ }
          writableError?.(error);
          reject(error);
          return;
        }
        try { readable?.close(); } catch { /* cancelled already */ }
        writableError?.(new WebSocketError('the WebSocket is closed', {}));
        resolve({ closeCode: code, reason: text });
      });
    });
    // Either may be left unawaited by the application.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  /**
   * Starts the close handshake, or aborts the opening handshake.
   * @throws DOMException InvalidAccessError for a code other than 1000 or 3000–4999; SyntaxError for a reason over 123 bytes
   */
  close(closeInfo: { closeCode?: number; reason?: string } = {}): void {
    const { closeCode, reason = '' } = closeInfo;
    validateClose(closeCode, reason);
    const ws = this.#ws as WebSocket | undefined;
    if (ws === undefined) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    if (closeCode === undefined && reason === '') ws.close();
    else ws.close(closeCode ?? CloseCode.Normal, reason);
  }
}

/** The two methods of a readable controller used here. */
interface ReadableStreamDefaultControllerLike {
  readonly desiredSize: number | null;
  enqueue(chunk: string | Uint8Array): void;
  close(): void;
  error(e: unknown): void;
}
