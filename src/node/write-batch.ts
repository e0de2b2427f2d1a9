/**
 * Write batching: frames queued for a connection during one turn of the event loop leave in one
 * write after the I/O phase (`setImmediate`), so a broadcast that sends many small frames to the
 * same client costs one system call per client per turn instead of one per frame. Every send
 * takes this path, whatever API made it (`send`, `ping`, `close`, a prepared message).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { InvalidStateError, encodeFrame, encodeFrameHeader } from '../protocol/index.js';
import { allocate, fastMask, nextMaskKey } from './buffers.js';
import { clearFrameCache } from './frame-cache.js';
import type { ConnectionSettings } from './settings.js';
import type { BivariantCallback } from './ws-types.js';

/**
 * The method a {@link Flushable} writes its queued frames with: a symbol, so a connection is
 * its own flushable without a public `flush` or a closure kept per connection.
 */
export const kFlush = Symbol('parley.flush');

/** Something with queued frames to flush. */
export interface Flushable {
  /** Writes everything queued. */
  [kFlush](): void;
}

let dirty: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  const list = dirty;
  dirty = [];
  scheduled = false;
  clearFrameCache();
  for (const item of list) item[kFlush]();
}

/** Arranges for `item[kFlush]()` to run once, after the current I/O phase. */
export function scheduleFlush(item: Flushable): void {
  dirty.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/** Called once the bytes of a write reach the socket, or with the error. */
export type WriteCallback = BivariantCallback<[error?: Error | null]>;

/** Bits of `FrameBatch.flags` (a subclass uses the bits above `FRAME_BATCH_BITS`). */
export const BatchFlag = {
  IS_SERVER: 1 << 0,
  /** A send returned false: 'drain' is owed. */
  NEED_DRAIN: 1 << 1,
  /** An empty write is pending to learn when the refused sender may go on. */
  DRAIN_PROBE: 1 << 2,
} as const;
/** The number of low bits of `flags` that {@link BatchFlag} uses. */
export const FRAME_BATCH_BITS = 3;

/** Payloads up to this size are copied behind their header and written once; larger ones go as two buffers. */
export const COPY_LIMIT = 16 * 1024;

/**
 * One connection's frames waiting for the end-of-turn flush, and 'drain': the writing half of the
 * send side (sender.ts extends it with the queue and the protocol's decisions).
 */
export abstract class FrameBatch implements Flushable {
  protected readonly ws: { emit(event: 'drain'): boolean };
  protected readonly socket: Duplex | undefined;
  protected readonly settings: ConnectionSettings;
  protected flags: number;
  /** Frames waiting for the end-of-turn flush, with their byte count and callbacks. */
  protected out: Buffer[] | undefined;
  protected outBytes = 0;
  protected outCallbacks: WriteCallback[] | undefined;

  constructor(ws: { emit(event: 'drain'): boolean }, socket: Duplex | undefined, settings: ConnectionSettings, isServer: boolean) {
    this.ws = ws;
    this.socket = socket;
    this.settings = settings;
    this.flags = isServer ? BatchFlag.IS_SERVER : 0;
  }

  /** Whether sends wait behind something (a subclass's queue): 'drain' is then its to report. */
  protected abstract get waiting(): boolean;

  protected is(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  /** Whether frames wait for the end-of-turn flush. */
  get batched(): boolean {
    return this.out !== undefined;
  }

  /** Emits 'drain' if a send returned false since the last one. */
  emitDrain(): void {
    if (!this.is(BatchFlag.NEED_DRAIN)) return;
    this.flags &= ~BatchFlag.NEED_DRAIN;
    this.ws.emit('drain');
  }

  protected writeFrame(opcode: number, payload: Buffer, fin: boolean, mask: boolean, cb: WriteCallback | undefined, rsv1 = false): boolean {
    const generateMask = this.settings.generateMask;
    const maskKey = !mask ? undefined : generateMask === undefined ? nextMaskKey() : customMaskKey(generateMask);
    if (maskKey !== undefined || payload.length <= COPY_LIMIT) {
      return this.queueOut(encodeFrame(opcode, payload, { fin, rsv1, maskKey, mask: fastMask }, allocate) as Buffer, cb);
    }
    // A large unmasked payload is not copied: it leaves now, behind its own header and the frames
    // queued before it, in one writev. Kept until the end of the turn, it would carry whatever
    // the application wrote into its Buffer meanwhile; and one system call per 16 KiB or more
    // costs little next to the copy that batching it would need.
    const header = encodeFrameHeader(opcode, payload.length, { fin, rsv1 }, allocate) as Buffer;
    const socket = this.socket!;
    socket.cork();
    this.flush();
    socket.write(header);
    const below = socket.write(payload, cb);
    socket.uncork();
    if (!below) this.flags |= BatchFlag.NEED_DRAIN;
    return below;
  }

  /**
   * Queues a frame for the end-of-turn flush (write-batch.ts): every frame sent to a connection
   * in one turn of the event loop leaves in one write, whichever API sent it.
   * @returns whether the bytes waiting for this socket stay below its high-water mark
   */
  protected queueOut(frame: Buffer, cb: WriteCallback | undefined): boolean {
    if (this.out === undefined) {
      this.out = [frame];
      scheduleFlush(this);
    } else {
      this.out.push(frame);
    }
    this.outBytes += frame.length;
    if (cb !== undefined) (this.outCallbacks ??= []).push(cb);
    const socket = this.socket;
    const below = socket === undefined || this.outBytes + socket.writableLength < socket.writableHighWaterMark;
    // The caller was told to wait for 'drain': it must come even if the flush's write is taken whole.
    if (!below) this.flags |= BatchFlag.NEED_DRAIN;
    return below;
  }


  /**
   * Writes the queued frames in one write: small ones copied together, large ones as a writev.
   * On a destroyed socket the write reports the error to the callbacks, as a direct write does.
   */
  flush(): void {
    const out = this.out;
    const callbacks = this.outCallbacks;
    const bytes = this.outBytes;
    this.out = undefined;
    this.outCallbacks = undefined;
    this.outBytes = 0;
    const socket = this.socket;
    if (out === undefined || socket === undefined) return;
    const done = callbacks === undefined ? undefined : (error?: Error | null): void => { for (const cb of callbacks) cb(error); };
    if (socket.writableEnded && !socket.destroyed) {
      // Not reached through Parley's own paths (the queue is flushed before every end()); a
      // write now would make the socket emit 'error'.
      if (done !== undefined) process.nextTick(done, new InvalidStateError('WebSocket is not open: the socket has ended'));
      return;
    }
    let below: boolean;
    if (out.length === 1) {
      below = socket.write(out[0]!, done);
    } else if (bytes <= COPY_LIMIT * 4) {
      below = socket.write(Buffer.concat(out, bytes), done);
    } else {
      socket.cork();
      for (let i = 0; i < out.length - 1; i++) socket.write(out[i]!);
      below = socket.write(out[out.length - 1]!, done);
      socket.uncork();
    }
    if (!below) this.flags |= BatchFlag.NEED_DRAIN;
  }

  /** The end-of-turn flush of frames queued by a send (write-batch.ts). */
  [kFlush](): void {
    this.flush();
    // A send that returned false waits for 'drain'. When the flush's write was taken whole and
    // nothing else will report it (the socket's own 'drain', the refusal's probe, the compression
    // queue), it is due now; on the next tick, so a throwing listener cannot stop other flushes.
    const socket = this.socket;
    if (this.is(BatchFlag.NEED_DRAIN) && !this.is(BatchFlag.DRAIN_PROBE) && !this.waiting && socket !== undefined && !socket.writableNeedDrain && !socket.destroyed) {
      process.nextTick(drainLater, this);
    }
  }

}

function drainLater(batch: FrameBatch): void {
  batch.emitDrain();
}

/** A masking key from the application's `generateMask` (a `ws` client option), which fills 4 bytes. */
function customMaskKey(generateMask: (mask: Buffer) => void): Buffer {
  const key = Buffer.alloc(4);
  generateMask(key);
  return key;
}
