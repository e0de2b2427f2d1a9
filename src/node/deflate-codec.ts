/**
 * The permessage-deflate codec (RFC 7692 §7.2) on Node's zlib: one {@link PerMessageDeflate} per
 * connection, compressing and inflating whole messages, and the frame a prepared message is
 * compressed into once for every server-side connection with the same window.
 *
 * Memory is the point of most of this:
 * - zlib streams are created on the first compressed message, never at the handshake, so an idle
 *   connection holds no zlib memory;
 * - without context takeover a stream is only borrowed for one message from a small shared pool
 *   of reset streams (zlib-pool.ts), so such connections hold no zlib memory between messages;
 * - every zlib job (one message in or out) runs under a process-wide concurrency limit
 *   (zlib-limiter.ts), so thousands of connections compressing at once queue instead of each
 *   holding buffers;
 * - inflating counts the output as it comes and stops at `maxPayload` (1009, zlib-coder.ts), so
 *   a small compressed message is never inflated whole to be measured.
 *
 * The negotiation is pure (src/protocol/permessage-deflate.ts); the options are deflate-options.ts;
 * compressing one message for many connections ahead of time is prepared-compressed.ts.
 * @packageDocumentation
 */
import * as zlib from 'node:zlib';
import { Buffer } from 'node:buffer';
import {
  CloseCode,
  ClosedError,
  Opcode,
  ProtocolError,
  ProtocolErrorCode,
  encodeFrame,
  type DeflateParameters,
} from '../protocol/index.js';
import { allocate } from './buffers.js';
import type { PreparedMessage } from './prepared-message.js';
import type { DeflateSettings } from './deflate-options.js';
import { EMPTY, TAIL, stripTail, type Coder } from './zlib-coder.js';
import { limiterFor, type Limiter } from './zlib-limiter.js';
import { borrow, createCoder, giveBack } from './zlib-pool.js';

/** What the handshake hands a connection when permessage-deflate was agreed. */
export interface DeflateSetup {
  params: DeflateParameters;
  settings: DeflateSettings;
}

/**
 * Largest payload {@link PerMessageDeflate.sharedFrame} compresses on the event loop (1 MiB,
 * a few milliseconds of zlib); larger prepared messages are compressed per connection, off it.
 */
export const SHARED_COMPRESSION_LIMIT = 1 << 20;

/** Frames compressed once per prepared message, by window bits; collected with the message. */
const sharedFrames = new WeakMap<PreparedMessage, Array<Buffer | undefined>>();

/** Result of {@link PerMessageDeflate.compress}. */
export type CompressCallback = (error: Error | null, payload: Buffer) => void;
/** Result of {@link PerMessageDeflate.decompress}. */
export type DecompressCallback = (error: ProtocolError | ClosedError | null, message: Buffer) => void;

/**
 * One connection's compressor and decompressor. Callbacks always run asynchronously. Calls of
 * each direction must not overlap: the `WebSocket` queues sends and pauses its receiver.
 */
export class PerMessageDeflate {
  /** The agreed parameters. */
  readonly params: DeflateParameters;
  /** Messages smaller than this are sent uncompressed. */
  readonly threshold: number;
  readonly #isServer: boolean;
  readonly #settings: DeflateSettings;
  readonly #maxPayload: number;
  readonly #limiter: Limiter;
  #deflate: Coder | undefined;
  #inflate: Coder | undefined;
  #closed = false;

  /**
   * @param setup - the agreed parameters and the settings
   * @param isServer - which side this connection is
   * @param maxPayload - largest inflated message in bytes (0: no limit)
   */
  constructor(setup: DeflateSetup, isServer: boolean, maxPayload: number) {
    this.params = setup.params;
    this.#settings = setup.settings;
    this.threshold = setup.settings.threshold;
    this.#isServer = isServer;
    this.#maxPayload = maxPayload;
    this.#limiter = limiterFor(setup.settings.concurrencyLimit);
  }

  /** Whether this side resets its compressor after each message. */
  get #ownNoContext(): boolean {
    return this.#isServer ? this.params.serverNoContextTakeover : this.params.clientNoContextTakeover;
  }

  /** Whether the peer resets its compressor after each message (so ours to inflate may be reset). */
  get #peerNoContext(): boolean {
    return this.#isServer ? this.params.clientNoContextTakeover : this.params.serverNoContextTakeover;
  }

  get #ownWindowBits(): number {
    return this.#isServer ? this.params.serverMaxWindowBits : this.params.clientMaxWindowBits;
  }

  get #peerWindowBits(): number {
    return this.#isServer ? this.params.clientMaxWindowBits : this.params.serverMaxWindowBits;
  }

  /**
   * Whether a frame from {@link prepareCompressedFrame} may be written as it is: only servers
   * write unmasked frames, and the client's window must be at least the frame's.
   */
  acceptsPrepared(windowBits: number): boolean {
    return this.#isServer && windowBits <= this.params.serverMaxWindowBits;
  }

  /**
   * `message` compressed once, with an empty window, into a complete frame that every server-side
   * connection with this connection's `server_max_window_bits` can take as it is; computed on
   * first need and shared. Undefined on the client side, for a window of 8 bits (zlib compresses
   * raw deflate with at least 9), and for payloads over {@link SHARED_COMPRESSION_LIMIT}, which
   * would stall the event loop: those connections compress the payload themselves.
   */
  sharedFrame(message: PreparedMessage): Buffer | undefined {
    const windowBits = this.params.serverMaxWindowBits;
    if (!this.#isServer || windowBits < 9 || message.payload.length > SHARED_COMPRESSION_LIMIT) return undefined;
    let frames = sharedFrames.get(message);
    if (frames === undefined) {
      frames = [];
      sharedFrames.set(message, frames);
    }
    let frame = frames[windowBits];
    if (frame === undefined) {
      const out = zlib.deflateRawSync(message.payload, { ...this.#settings.zlibDeflateOptions, windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      frame = encodeFrame(message.binary ? Opcode.Binary : Opcode.Text, stripTail(out), { rsv1: true }, allocate) as Buffer;
      frames[windowBits] = frame;
    }
    return frame;
  }

  /**
   * Forgets the compressor's history, so the next message refers to nothing sent before; used
   * after a prepared frame went out between this connection's own messages.
   */
  dropCompressionContext(): void {
    if (this.#ownNoContext) return;
    this.#deflate?.close();
    this.#deflate = undefined;
  }

  /**
   * Compresses one message, or one fragment of it (`fin` false: the stream stays open for the
   * next fragment). The last fragment loses its 00 00 ff ff tail (RFC 7692 §7.2.1).
   */
  compress(data: Buffer, fin: boolean, cb: CompressCallback): void {
    this.#job(false, [data], 0, fin, (error, out) => {
      if (error === undefined) cb(null, fin ? stripTail(out) : out);
      else cb(error === 'overflow' ? new Error('deflate overflow') : error, EMPTY);
    });
  }

  /**
   * Inflates one whole message. Fails with 1009 as soon as the output passes `maxPayload`, and
   * with 1007 when the data does not inflate (RFC 7692 §7.2.2).
   */
  decompress(data: Buffer, cb: DecompressCallback): void {
    this.#job(true, [data, TAIL], this.#maxPayload, true, (error, out) => {
      if (error === undefined) cb(null, out);
      else if (error instanceof ProtocolError || error instanceof ClosedError) cb(error, EMPTY);
      else if (error === 'overflow') {
        cb(new ProtocolError(ProtocolErrorCode.UNSUPPORTED_MESSAGE_LENGTH, 'Max payload size exceeded', CloseCode.MessageTooBig), EMPTY);
      } else cb(new ProtocolError(ProtocolErrorCode.INFLATE_FAILED, 'compressed data does not inflate', CloseCode.InvalidPayload), EMPTY);
    });
  }

  /**
   * Runs one job on this connection's compressor (`inflate` false) or decompressor under the
   * shared limiter. The coder is this connection's own with context takeover, or a reset one from
   * the pool without it (RFC 7692 §7.2.1), given back when the job `endsMessage`. A coder that
   * failed is dropped, and so is one whose DEFLATE stream ended with a BFINAL block (§7.2.3.3):
   * zlib takes no more input after that, so were it reused later messages would inflate to
   * nothing, and a pooled one would fail the next borrower's valid message.
   */
  #job(inflate: boolean, input: readonly Buffer[], limit: number, endsMessage: boolean, cb: (error: Error | 'overflow' | undefined, out: Buffer) => void): void {
    this.#limiter.run((done) => {
      if (this.#closed) {
        done();
        process.nextTick(cb, closedError(), EMPTY);
        return;
      }
      const settings = this.#settings;
      const noContext = inflate ? this.#peerNoContext : this.#ownNoContext;
      let coder = inflate ? this.#inflate : this.#deflate;
      if (coder === undefined) {
        const windowBits = inflate ? this.#peerWindowBits : this.#ownWindowBits;
        const options = inflate ? settings.zlibInflateOptions : settings.zlibDeflateOptions;
        coder = noContext ? borrow(inflate, windowBits, options) : createCoder(inflate, windowBits, options, '');
        this.#setCoder(inflate, coder);
      }
      const used = coder;
      used.run(input, limit, (error, out) => {
        done();
        const current = (inflate ? this.#inflate : this.#deflate) === used;
        if (error !== undefined || used.ended) {
          if (current) this.#setCoder(inflate, undefined);
          used.close();
        } else if (endsMessage && noContext && current) {
          this.#setCoder(inflate, undefined);
          giveBack(used, settings.concurrencyLimit);
        }
        cb(error, out);
      });
    });
  }

  #setCoder(inflate: boolean, coder: Coder | undefined): void {
    if (inflate) this.#inflate = coder;
    else this.#deflate = coder;
  }

  /** Releases the zlib streams now; pending and later calls fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deflate?.close();
    this.#inflate?.close();
    this.#deflate = undefined;
    this.#inflate = undefined;
  }
}

function closedError(): ClosedError {
  return new ClosedError('the connection closed');
}
