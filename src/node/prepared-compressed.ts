/**
 * Fan-out with permessage-deflate: a message compressed once, with an empty window, into a
 * complete server-to-client frame that many connections write unchanged (RFC 7692 §7.1.1: with
 * no context takeover a message refers to nothing before it). The per-connection codec is
 * deflate-codec.ts; this job runs under the same shared zlib limit.
 * @packageDocumentation
 */
import type * as zlib from 'node:zlib';
import { Buffer } from 'node:buffer';
import { MAX_WINDOW_BITS, Opcode, encodeFrame, validateDeflateOptions } from '../protocol/index.js';
import { allocate } from './buffers.js';
import { PreparedMessage } from './prepared-message.js';
import { DEFAULT_CONCURRENCY_LIMIT } from './deflate-options.js';
import { limiterFor } from './zlib-limiter.js';
import { borrow, giveBack } from './zlib-pool.js';
import { stripTail } from './zlib-coder.js';

/**
 * A message compressed once into a complete unmasked frame (FIN and RSV1 set), for `ws.send()`
 * on many server-side connections. A connection that cannot take it as it is (client side, no
 * permessage-deflate, a smaller window, or in the middle of a fragmented send) sends `payload`
 * the ordinary way instead.
 */
export class PreparedCompressedMessage extends PreparedMessage {
  /** The compressor's window bits: a connection needs a `server_max_window_bits` at least this large. */
  readonly windowBits: number;

  /** @internal Use {@link prepareCompressedFrame}. */
  constructor(frame: Buffer, payload: Buffer, binary: boolean, windowBits: number) {
    super(frame, payload, binary);
    this.windowBits = windowBits;
  }
}

/** Options of {@link prepareCompressedFrame}. */
export interface PrepareOptions {
  /** Send as binary; default: true unless `data` is a string. */
  binary?: boolean;
  /** Compressor window, 8–15. Default 15. */
  windowBits?: number;
  /** As in {@link PerMessageDeflateOptions}. */
  zlibDeflateOptions?: zlib.ZlibOptions;
  /** As in {@link PerMessageDeflateOptions}; the job runs under the same shared limit. Default 10. */
  concurrencyLimit?: number;
}

/**
 * Compresses a message once, with an empty window (no context takeover, RFC 7692 §7.1.1), into a
 * complete server-to-client frame that can be written unchanged to any number of connections
 * that negotiated permessage-deflate with a `server_max_window_bits` of at least `windowBits`
 * (pass it to `ws.send()`). Connections that negotiated `server_no_context_takeover` take it at no
 * cost; the others take it too, and their compressor restarts from an empty window afterwards.
 */
export function prepareCompressedFrame(data: string | Buffer | ArrayBuffer | ArrayBufferView, options: PrepareOptions = {}): Promise<PreparedCompressedMessage> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8')
    : Buffer.isBuffer(data) ? data
    : data instanceof ArrayBuffer ? Buffer.from(data)
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const binary = options.binary ?? typeof data !== 'string';
  const windowBits = options.windowBits ?? MAX_WINDOW_BITS;
  validateDeflateOptions({ serverMaxWindowBits: windowBits });
  const zopts = { ...options.zlibDeflateOptions };
  const limit = options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('concurrencyLimit must be an integer of at least 1');
  return new Promise((resolve, reject) => {
    limiterFor(limit).run((done) => {
      const coder = borrow(false, windowBits, zopts);
      coder.run([bytes], 0, (error, out) => {
        done();
        if (error !== undefined) {
          coder.close();
          reject(error === 'overflow' ? new Error('deflate overflow') : error);
          return;
        }
        giveBack(coder, limit);
        const frame = encodeFrame(binary ? Opcode.Binary : Opcode.Text, stripTail(out), { rsv1: true }, allocate) as Buffer;
        resolve(new PreparedCompressedMessage(frame, bytes, binary, windowBits));
      });
    });
  });
}
