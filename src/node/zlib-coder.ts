/**
 * One raw DEFLATE compressor or decompressor of Node's zlib, wrapped to run one permessage-deflate
 * job at a time: write the input, flush with Z_SYNC_FLUSH, collect the output (stopping early past
 * a size limit), call back once. Also the RFC 7692 §7.2.1 tail every flushed message ends with.
 * @packageDocumentation
 */
import * as zlib from 'node:zlib';
import { Buffer } from 'node:buffer';

/** An empty output, shared. */
export const EMPTY = Buffer.alloc(0);
/** The 4 bytes every flushed message ends with, removed before sending and added before inflating (RFC 7692 §7.2.1, §7.2.2). */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** An empty message, or an empty last fragment, compresses to one empty stored block header (§7.2.3.6). */
const EMPTY_BLOCK = Buffer.from([0x00]);

/** Removes the 00 00 ff ff tail of a flushed message (§7.2.1); an empty flush becomes one 0x00. */
export function stripTail(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff && out[n - 1] === 0xff) return out.subarray(0, n - 4);
  // Nothing new since the previous fragment's flush: zlib writes nothing, but the receiver appends
  // the tail, which must follow a block header (§7.2.3.6).
  return n === 0 ? EMPTY_BLOCK : out;
}

/** A raw DEFLATE stream of either direction. */
export type ZlibStream = zlib.DeflateRaw | zlib.InflateRaw;

/** What {@link Coder.run} calls back with: no error and the output, an error, or `'overflow'` past the limit. */
export type CoderCallback = (error: Error | 'overflow' | undefined, output: Buffer) => void;

/**
 * A zlib stream with an output collector. `run` writes input, flushes with Z_SYNC_FLUSH and calls
 * back exactly once: with the output, or with the error (corrupt input, output over `limit`, or
 * the stream closed under it).
 */
export class Coder {
  readonly stream: ZlibStream;
  /** The pool's key for this stream's configuration ('' for a stream that is never pooled). */
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

  /** True once the stream was closed (after an error, or by {@link Coder.close}). */
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
   * @param cb - `(undefined, output)` or `(error)`; `'overflow'` when the output passed `limit`
   */
  run(input: readonly Buffer[], limit: number, cb: CoderCallback): void {
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

  /** Destroys the stream; a run in progress calls back with an error. */
  close(): void {
    this.stream.destroy();
  }
}
