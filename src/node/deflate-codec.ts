/**
 * The permessage-deflate codec (RFC 7692 §7.2) on Node's zlib: one {@link PerMessageDeflate} per
 * connection, compressing and inflating whole messages.
 *
 * Memory is the point of most of this file:
 * - zlib streams are created on the first compressed message, never at the handshake, so an idle
 *   connection holds no zlib memory;
 * - without context takeover a stream is only borrowed for one message from a small shared pool
 *   of reset streams, so such connections hold no zlib memory between messages at all;
 * - every zlib job (one message in or out) runs under a process-wide concurrency limit, so
 *   thousands of connections compressing at once queue instead of each holding buffers;
 * - inflating counts the output as it comes and stops at `maxPayload` (1009), so a small
 *   compressed message is never inflated whole to be measured.
 * @packageDocumentation
 */
import * as zlib from 'node:zlib';
import { Buffer } from 'node:buffer';
import {
  CloseCode,
  ClosedError,
  MAX_WINDOW_BITS,
  Opcode,
  ProtocolError,
  ProtocolErrorCode,
  encodeFrame,
  validateDeflateOptions,
  type DeflateNegotiationOptions,
  type DeflateParameters,
} from '../protocol/index.js';
import { allocate } from './buffers.js';
import { PreparedMessage } from './prepared-message.js';

/** `perMessageDeflate` options, in the shape of `ws`'s. */
export interface PerMessageDeflateOptions extends DeflateNegotiationOptions {
  /** Options for the compressor (`level`, `memLevel`, `strategy`, `chunkSize`); `windowBits` comes from the negotiation. */
  zlibDeflateOptions?: zlib.ZlibOptions;
  /** Options for the decompressor (`chunkSize`); `windowBits` comes from the negotiation. */
  zlibInflateOptions?: zlib.ZlibOptions;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Most zlib jobs running at once in the process (shared by every connection with the same limit). Default 10. */
  concurrencyLimit?: number;
}

/** {@link PerMessageDeflateOptions} checked and with defaults filled in. */
export interface DeflateSettings {
  negotiation: DeflateNegotiationOptions;
  zlibDeflateOptions: zlib.ZlibOptions;
  zlibInflateOptions: zlib.ZlibOptions;
  threshold: number;
  concurrencyLimit: number;
}

/** What the handshake hands a connection when permessage-deflate was agreed. */
export interface DeflateSetup {
  params: DeflateParameters;
  settings: DeflateSettings;
}

/** Default `threshold`, as `ws`. */
export const DEFAULT_THRESHOLD = 1024;
/** Default `concurrencyLimit`, as `ws`. */
export const DEFAULT_CONCURRENCY_LIMIT = 10;

/** The 4 bytes every flushed message ends with, removed before sending and added before inflating (RFC 7692 §7.2.1, §7.2.2). */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** An empty message, or an empty last fragment, compresses to one empty stored block header (§7.2.3.6). */
const EMPTY_BLOCK = Buffer.from([0x00]);
/** Idle pooled streams are closed after this long. */
const POOL_IDLE_MS = 2000;

/**
 * Validates `perMessageDeflate` (true, false, or options) at construction.
 * @returns the settings, or `undefined` when compression is off
 * @throws TypeError or RangeError for bad options
 */
export function resolvePerMessageDeflate(value: boolean | PerMessageDeflateOptions | undefined): DeflateSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const o: PerMessageDeflateOptions = value === true ? {} : value;
  if (typeof o !== 'object' || o === null) throw new TypeError('perMessageDeflate must be a boolean or an options object');
  validateDeflateOptions(o);
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0)) throw new RangeError(`perMessageDeflate.threshold must be a non-negative number, got ${String(threshold)}`);
  const concurrencyLimit = o.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT;
  if (typeof concurrencyLimit !== 'number' || !Number.isInteger(concurrencyLimit) || concurrencyLimit < 1) {
    throw new RangeError(`perMessageDeflate.concurrencyLimit must be an integer of at least 1, got ${String(concurrencyLimit)}`);
  }
  return {
    negotiation: {
      serverNoContextTakeover: o.serverNoContextTakeover,
      clientNoContextTakeover: o.clientNoContextTakeover,
      serverMaxWindowBits: o.serverMaxWindowBits,
      clientMaxWindowBits: o.clientMaxWindowBits,
    },
    zlibDeflateOptions: { ...o.zlibDeflateOptions },
    zlibInflateOptions: { ...o.zlibInflateOptions },
    threshold,
    concurrencyLimit,
  };
}

// ---- the concurrency limit ---------------------------------------------------------------

/** Runs at most `limit` jobs at once; the rest wait in order. */
class Limiter {
  readonly limit: number;
  running = 0;
  readonly #queue: Array<() => void> = [];
  #draining = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Queues `job`; it must call `done` exactly once (extra calls are ignored). */
  run(job: (done: () => void) => void): void {
    this.#queue.push(() => {
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.running--;
        this.#drain();
      });
    });
    this.#drain();
  }

  // A loop rather than recursion: jobs that finish at once (closed connections) must not
  // deepen the stack however many are queued.
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    while (this.running < this.limit && this.#queue.length > 0) {
      this.running++;
      this.#queue.shift()!();
    }
    this.#draining = false;
  }
}

const limiters = new Map<number, Limiter>();

function limiterFor(limit: number): Limiter {
  let l = limiters.get(limit);
  if (l === undefined) {
    l = new Limiter(limit);
    limiters.set(limit, l);
  }
  return l;
}

// ---- zlib streams -------------------------------------------------------------------------

type ZlibStream = zlib.DeflateRaw | zlib.InflateRaw;

/**
 * A zlib stream with an output collector. `run` writes input, flushes with Z_SYNC_FLUSH and calls
 * back exactly once: with the output, or with the error (corrupt input, output over `limit`, or
 * the stream closed under it).
 */
class Coder {
  readonly stream: ZlibStream;
  readonly key: string;
  #chunks: Buffer[] = [];
  #length = 0;
  #limit = 0;
  #overflow = false;
  #error: Error | undefined;
  #finish: ((error: Error | undefined) => void) | undefined;
  /** The DEFLATE stream ended (a block with BFINAL set, RFC 7692 §7.2.3.3): unusable for more. */
  #ended = false;

  constructor(stream: ZlibStream, key: string) {
    this.stream = stream;
    this.key = key;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('end', () => {
      this.#ended = true;
    });
    stream.on('error', (error: Error) => {
      this.#error ??= error;
      this.#finish?.(error);
    });
    stream.on('close', () => this.#finish?.(this.#error ?? new Error('zlib stream closed')));
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  /** True once the peer's DEFLATE data ended with a BFINAL block; the stream takes no more input. */
  get ended(): boolean {
    return this.#ended;
  }

  #onData(chunk: Buffer): void {
    if (this.#overflow) return;
    this.#length += chunk.length;
    if (this.#limit > 0 && this.#length > this.#limit) {
      // Stop inflating now: the rest of the output is never produced (bad-input guide §16).
      this.#overflow = true;
      this.#chunks = [];
      this.stream.destroy();
      return;
    }
    this.#chunks.push(chunk);
  }

  /**
   * @param limit - most output bytes (0: no limit)
   * @param cb - `(null, output)` or `(error)`; `'overflow'` when the output passed `limit`
   */
  run(input: readonly Buffer[], limit: number, cb: (error: Error | 'overflow' | undefined, output: Buffer) => void): void {
    this.#chunks = [];
    this.#length = 0;
    this.#limit = limit;
    this.#overflow = false;
    let called = false;
    const finish = (error: Error | undefined): void => {
      if (called) return;
      called = true;
      if (this.#finish === finish) this.#finish = undefined;
      const chunks = this.#chunks;
      const length = this.#length;
      this.#chunks = [];
      if (this.#overflow) cb('overflow', EMPTY);
      else if (error !== undefined) cb(error, EMPTY);
      else cb(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    };
    this.#finish = finish;
    if (this.#error !== undefined || this.stream.destroyed) {
      process.nextTick(finish, this.#error ?? new Error('zlib stream closed'));
      return;
    }
    for (const b of input) this.stream.write(b);
    // Bound to this run: a stale callback must not finish a later run on a pooled stream.
    this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => finish(this.#error));
  }

  close(): void {
    this.stream.destroy();
  }
}

const EMPTY = Buffer.alloc(0);

/** Reset streams kept for connections without context takeover, by configuration. */
const pool = new Map<string, Array<{ coder: Coder; idleSince: number }>>();
let pooled = 0;
let poolTimer: NodeJS.Timeout | undefined;

function coderKey(inflate: boolean, windowBits: number, options: zlib.ZlibOptions): string {
  return `${inflate ? 'i' : 'd'}${windowBits}:${JSON.stringify(options)}`;
}

/** zlib streams open now (in use or pooled). */
let liveStreams = 0;

function createCoder(inflate: boolean, windowBits: number, options: zlib.ZlibOptions, key: string): Coder {
  const opts = { ...options, windowBits };
  const stream = inflate ? zlib.createInflateRaw(opts) : zlib.createDeflateRaw(opts);
  liveStreams++;
  stream.once('close', () => liveStreams--);
  return new Coder(stream, key);
}

/** A reset stream from the pool, or a new one. */
function borrow(inflate: boolean, windowBits: number, options: zlib.ZlibOptions): Coder {
  const key = coderKey(inflate, windowBits, options);
  const list = pool.get(key);
  const entry = list?.pop();
  if (entry !== undefined) {
    pooled--;
    if (list!.length === 0) pool.delete(key);
    return entry.coder;
  }
  return createCoder(inflate, windowBits, options, key);
}

/** Resets a stream and keeps it for the next borrower; at most `max` idle per configuration. */
function giveBack(coder: Coder, max: number): void {
  if (coder.destroyed) return;
  const list = pool.get(coder.key) ?? [];
  if (list.length >= max) {
    coder.close();
    return;
  }
  // RFC 7692 §7.2.1: without context takeover every message starts from an empty window.
  coder.stream.reset();
  list.push({ coder, idleSince: performance.now() });
  pool.set(coder.key, list);
  pooled++;
  if (poolTimer === undefined) {
    poolTimer = setTimeout(sweepPool, POOL_IDLE_MS);
    poolTimer.unref();
  }
}

function sweepPool(): void {
  poolTimer = undefined;
  const now = performance.now();
  for (const [key, list] of pool) {
    const keep = list.filter((e) => now - e.idleSince < POOL_IDLE_MS);
    for (const e of list) if (!keep.includes(e)) e.coder.close();
    pooled -= list.length - keep.length;
    if (keep.length === 0) pool.delete(key);
    else pool.set(key, keep);
  }
  if (pooled > 0) {
    poolTimer = setTimeout(sweepPool, POOL_IDLE_MS);
    poolTimer.unref();
  }
}

/** Counters for tests and monitoring: zlib jobs running and waiting, zlib streams open and idle in the pool. */
export function deflateStats(): { running: number; queued: number; streams: number; pooled: number } {
  let running = 0;
  let queued = 0;
  for (const l of limiters.values()) {
    running += l.running;
    queued += l.queued;
  }
  return { running, queued, streams: liveStreams, pooled };
}

/** Closes every idle pooled stream now (tests; or to return memory after a burst). */
export function drainDeflatePool(): void {
  for (const list of pool.values()) for (const e of list) e.coder.close();
  pool.clear();
  pooled = 0;
  if (poolTimer !== undefined) clearTimeout(poolTimer);
  poolTimer = undefined;
}

// ---- per connection -----------------------------------------------------------------------

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

/** Removes the 00 00 ff ff tail of a flushed message (§7.2.1); an empty flush becomes one 0x00. */
function stripTail(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff && out[n - 1] === 0xff) return out.subarray(0, n - 4);
  // Nothing new since the previous fragment's flush: zlib writes nothing, but the receiver appends
  // the tail, which must follow a block header (§7.2.3.6).
  return n === 0 ? EMPTY_BLOCK : out;
}

// ---- fan-out ------------------------------------------------------------------------------

/**
 * Largest payload {@link PerMessageDeflate.sharedFrame} compresses on the event loop (1 MiB,
 * a few milliseconds of zlib); larger prepared messages are compressed per connection, off it.
 */
export const SHARED_COMPRESSION_LIMIT = 1 << 20;

/** Frames compressed once per prepared message, by window bits; collected with the message. */
const sharedFrames = new WeakMap<PreparedMessage, Array<Buffer | undefined>>();

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
