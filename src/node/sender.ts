/**
 * The send side of a `WebSocket` (websocket.ts): framing, the end-of-turn batch of frames
 * (write-batch.ts), the queue of sends waiting behind a Blob being read or a message being
 * compressed, admission against `maxBufferedAmount`, 'drain', and sends refused after close.
 * Which sends are allowed and which opcode a data frame takes are the protocol's state machine's
 * (src/protocol/connection.ts); this file writes the bytes.
 *
 * A connection gets its sender on its first send: an idle connection has none.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ErrorCode,
  InvalidStateError,
  Opcode,
  ParleyError,
  encodeFrame,
  encodeFrameHeader,
  frameHeaderSize,
  writeFrameHeader,
} from '../protocol/index.js';
import { continuesMessage, dataFrameSent, errorOccurred, readyStateOf, sendFailed, stateOf, ReadyState, type Step } from '../protocol/connection.js';
import { allocate, fastMask, isBlob, nextMaskKey, toBytes, type Data } from './buffers.js';
import { kApply, kState } from './internal.js';
import type { ConnectionSettings } from './settings.js';
import { kFlush, scheduleFlush } from './write-batch.js';
import { cachedFrame, rememberFrame } from './frame-cache.js';
import { PreparedCompressedMessage, type PerMessageDeflate } from './deflate-codec.js';
import type { PreparedMessage } from './prepared-message.js';
import type { BivariantCallback } from './ws-types.js';

/** Options of `WebSocket.send`. */
export interface SendOptions {
  /** Send as binary; default: true unless `data` is a string. */
  binary?: boolean;
  /** Mask the frame; default: true on the client, false on the server (RFC 6455 §5.1). */
  mask?: boolean;
  /** Last fragment of the message; `false` starts or continues a fragmented message. Default true. */
  fin?: boolean;
  /** Compress this message when permessage-deflate is negotiated. Default true. */
  compress?: boolean;
}

/**
 * Callback of `send`, `ping`, `pong`: called once the bytes reach the socket, or with the error.
 * Bivariant, so callbacks typed `(err: Error) => void` as `@types/ws` types `ping`'s are accepted.
 */
export type SendCallback = BivariantCallback<[error?: Error | null]>;

/** What the sender needs of its connection (websocket.ts). */
export interface SendHost {
  readonly readyState: number;
  [kState]: number;
  [kApply](step: Step, error?: unknown, closeCode?: number): void;
  emit(event: 'drain'): boolean;
  close(code?: number): void;
  send(data: PreparedMessage, cb?: SendCallback): boolean;
}

/** Bits of `Sender.#flags`. */
const Flag = {
  IS_SERVER: 1 << 0,
  NEED_DRAIN: 1 << 1,
  /** An empty write is pending to learn when the refused sender may go on. */
  DRAIN_PROBE: 1 << 2,
  /** The message being sent (possibly in fragments) is compressed. */
  COMPRESSING: 1 << 3,
} as const;

/** Payloads up to this size are copied behind their header and written once; larger ones go as two buffers. */
const COPY_LIMIT = 16 * 1024;
const EMPTY = Buffer.alloc(0);
const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
/** What the callbacks of sends still queued learn when the socket closes under them (`ws`'s words). */
const CLOSED_WHILE_READING = 'The socket was closed while the blob was being read';
const CLOSED_WHILE_COMPRESSING = 'The socket was closed while data was being compressed';

/** A send waiting behind a Blob that is being read or a message being compressed. */
interface QueuedSend {
  ready: boolean;
  data: Data;
  options: SendOptions | undefined;
  cb: SendCallback | undefined;
  error?: Error;
  /** Bytes counted in `bufferedAmount` while queued. */
  size?: number;
  /** A frame ready to write: a compressed message, or a close frame queued behind one. */
  frame?: { opcode: number; payload: Buffer; fin: boolean; mask: boolean; rsv1: boolean };
  /** The data is a Blob being read (its failure is reported as `ws` reports it). */
  blob?: boolean;
}

/** The send side of one connection. */
export class Sender {
  readonly #ws: SendHost;
  readonly #socket: Duplex | undefined;
  readonly #settings: ConnectionSettings;
  readonly #deflate: PerMessageDeflate | undefined;
  #flags: number;
  /** Frames waiting for the end-of-turn flush (see write-batch.ts), with their byte count. */
  #out: Buffer[] | undefined;
  #outBytes = 0;
  #outCallbacks: SendCallback[] | undefined;
  /** Sends wait here while a Blob is read or a message compressed, so messages keep their order. */
  #queue: QueuedSend[] | undefined;
  /** Bytes of messages waiting in `#queue`. */
  #queuedBytes = 0;
  /** Bytes the application tried to send after the connection closed (as `ws` reports them). */
  #refusedBytes = 0;
  /**
   * Prepared messages sent while a fragmented message is open: a data frame may not appear inside
   * another message (RFC 6455 §5.4), so they wait for its last fragment.
   */
  #afterFragments: Array<[PreparedMessage, SendCallback | undefined]> | undefined;

  constructor(ws: SendHost, socket: Duplex | undefined, settings: ConnectionSettings, deflate: PerMessageDeflate | undefined, isServer: boolean) {
    this.#ws = ws;
    this.#socket = socket;
    this.#settings = settings;
    this.#deflate = deflate;
    this.#flags = isServer ? Flag.IS_SERVER : 0;
  }

  /** Bytes held here: batched, queued, and refused after close (all count in `bufferedAmount`). */
  get bufferedBytes(): number {
    return this.#outBytes + this.#queuedBytes + this.#refusedBytes;
  }

  /** Whether sends wait in the queue (behind a Blob or a compression). */
  get queued(): boolean {
    return this.#queue !== undefined;
  }

  #is(flag: number): boolean {
    return (this.#flags & flag) !== 0;
  }

  #setFlag(flag: number, on: boolean): void {
    if (on) this.#flags |= flag;
    else this.#flags &= ~flag;
  }

  /** Sends data the protocol allowed (OPEN): in order behind queued sends, or framed now. */
  sendData(data: Data, options: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    if (this.#queue !== undefined || isBlob(data)) {
      this.#queueSend(data, options, cb);
      return true;
    }
    return this.#send(data, options, cb);
  }

  /** Holds a prepared message until the message in fragments ends (RFC 6455 §5.4). */
  waitForMessageEnd(message: PreparedMessage, cb: SendCallback | undefined): void {
    (this.#afterFragments ??= []).push([message, cb]);
  }

  /** Sends the prepared messages that waited for a fragmented message to end (or fails them, when closed). */
  releaseWaiting(): void {
    const waiting = this.#afterFragments;
    if (waiting === undefined) return;
    this.#afterFragments = undefined;
    for (const [message, cb] of waiting) this.#ws.send(message, cb);
  }

  /**
   * Sends a prepared message's frame as it is, when this connection can (server side, nothing
   * queued, a compressed frame it can take).
   * @returns the send's result, or undefined when the payload must be sent the ordinary way
   */
  sendPrepared(message: PreparedMessage, cb: SendCallback | undefined): boolean | undefined {
    if (!this.#is(Flag.IS_SERVER) || this.#queue !== undefined) return undefined;
    const frame = this.#preparedFrame(message);
    if (frame === undefined) return undefined;
    if (!this.#admit(cb)) return false;
    return this.#queueOut(frame, cb);
  }

  #preparedFrame(message: PreparedMessage): Buffer | undefined {
    const deflate = this.#deflate;
    if (message instanceof PreparedCompressedMessage) {
      if (deflate?.acceptsPrepared(message.windowBits) !== true) return undefined;
      // Our compressor's history no longer matches the peer's window (RFC 7692 §7.2.1).
      deflate.dropCompressionContext();
      return message.frame;
    }
    if (deflate === undefined || message.payload.length < deflate.threshold) return message.frame;
    // permessage-deflate was agreed and the message is worth compressing: the frame compressed
    // once for every connection with this window, or (too large to compress on the event loop)
    // undefined, and this connection compresses the payload itself.
    const shared = deflate.sharedFrame(message);
    if (shared !== undefined) deflate.dropCompressionContext();
    return shared;
  }

  #send(data: Exclude<Data, Blob>, options: SendOptions | undefined, cb: SendCallback | undefined, front = false): boolean {
    const isString = typeof data === 'string';
    // Converted before any state changes, so a TypeError leaves the fragment state as it was.
    const bytes = isString ? undefined : toBytes(data);
    const binary = options?.binary ?? !isString;
    const fin = options?.fin ?? true;
    const ws = this.#ws;
    const first = !continuesMessage(ws[kState]);
    const opcode = first ? (binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
    ws[kState] = stateOf(dataFrameSent(ws[kState], fin));
    const mask = options?.mask ?? !this.#is(Flag.IS_SERVER);
    if (!this.#admit(cb)) return false;
    const deflate = this.#deflate;
    if (deflate !== undefined) {
      // Decided on the first fragment; the rest of the message follows (RFC 7692 §6.1).
      if (first) this.#setFlag(Flag.COMPRESSING, options?.compress !== false && (isString ? Buffer.byteLength(data, 'utf8') : (bytes ?? toBytes(data)).length) >= deflate.threshold);
      // Compression runs later, off the event loop: it gets a copy of the application's bytes,
      // which may change before zlib reads them (a string's bytes are already our own).
      if (this.#is(Flag.COMPRESSING)) return this.#compress(opcode, bytes === undefined ? toBytes(data) : Buffer.from(bytes), fin, mask, first, cb, front);
    }
    if (isString && !mask && data.length < COPY_LIMIT) {
      // The same string sent to many connections in one turn is framed once (frame-cache.ts).
      const cached = cachedFrame(data, undefined, opcode, fin);
      if (cached !== undefined) return this.#queueOut(cached, cb);
      // Strings are encoded straight behind the header: one allocation, one copy.
      const length = Buffer.byteLength(data, 'utf8');
      const size = frameHeaderSize(length, false);
      const out = Buffer.allocUnsafe(size + length);
      writeFrameHeader(out, 0, opcode, length, fin, false, undefined);
      out.write(data, size, 'utf8');
      rememberFrame(data, opcode, fin, out, size);
      return this.#queueOut(out, cb);
    }
    const payload = bytes ?? toBytes(data);
    if (!mask && payload.length <= COPY_LIMIT) {
      // Copied behind its header now, so the frame holds the bytes of this call even if the
      // application reuses its Buffer; the same bytes sent to many connections are framed once.
      const cached = cachedFrame(data, payload, opcode, fin);
      if (cached !== undefined) return this.#queueOut(cached, cb);
      const out = encodeFrame(opcode, payload, { fin }, allocate) as Buffer;
      rememberFrame(data, opcode, fin, out, out.length - payload.length);
      return this.#queueOut(out, cb);
    }
    return this.#writeFrame(opcode, payload, fin, mask, cb);
  }

  /**
   * Compresses a message (or fragment) off the event loop. It waits in `#queue`, and every
   * later send waits behind it, so frames leave in order; `front` puts it first (it is the queue
   * head being sent).
   */
  #compress(opcode: number, payload: Buffer, fin: boolean, mask: boolean, rsv1: boolean, cb: SendCallback | undefined, front: boolean): boolean {
    const entry: QueuedSend = { ready: false, data: payload, options: undefined, cb, size: payload.length };
    const queue = (this.#queue ??= []);
    if (front) queue.unshift(entry);
    else queue.push(entry);
    this.#queuedBytes += payload.length;
    this.#deflate!.compress(payload, fin, (error, compressed) => {
      if (error !== null) entry.error = error;
      else entry.frame = { opcode, payload: compressed, fin, mask, rsv1 };
      entry.ready = true;
      this.#flushQueue();
    });
    const below = this.#bufferedAmount() < (this.#socket?.writableHighWaterMark ?? Infinity);
    if (!below) this.#flags |= Flag.NEED_DRAIN;
    return below;
  }

  #bufferedAmount(): number {
    return (this.#socket?.writableLength ?? 0) + this.bufferedBytes;
  }

  /** Blobs are read asynchronously; later sends wait behind them so order is kept. */
  #queueSend(data: Data, options: SendOptions | undefined, cb: SendCallback | undefined): void {
    const queue = (this.#queue ??= []);
    const blob = isBlob(data);
    const size = blob ? data.size : typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : toBytes(data).length;
    // Bytes wait here until what is ahead of them is sent: a copy, so a send carries the bytes it
    // was given even if the application reuses its Buffer meanwhile.
    const entry: QueuedSend = { ready: !blob, data: blob || typeof data === 'string' ? data : Buffer.from(toBytes(data)), options, cb, size, blob };
    this.#queuedBytes += size;
    queue.push(entry);
    if (blob) {
      data.arrayBuffer().then(
        (ab) => { entry.data = Buffer.from(ab); entry.options = { ...options, binary: options?.binary ?? true }; },
        (error: unknown) => { entry.error = error instanceof Error ? error : new Error(String(error)); },
      ).finally(() => {
        entry.ready = true;
        this.#flushQueue();
      });
    }
  }

  #flushQueue(): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    while (queue.length > 0 && queue[0]!.ready) {
      const head = queue[0]!;
      const { data, options, cb, error, size, frame } = head;
      // Everything queued was accepted before close(), whose frame is queued last: it goes out.
      const socket = this.#socket;
      const ready = this.#ws.readyState;
      const writable = (ready === ReadyState.OPEN || ready === ReadyState.CLOSING) && socket !== undefined && !socket.destroyed && !socket.writableEnded;
      if (head.blob === true && (error !== undefined || !writable)) {
        // As `ws`: a Blob that cannot be read fails the connection, and the socket closing while
        // it was read fails it and every send behind it.
        this.#failQueue(error ?? new InvalidStateError(CLOSED_WHILE_READING), error !== undefined);
        return;
      }
      if (!writable && frame !== undefined && frame.opcode !== Opcode.Close) {
        this.#failQueue(new InvalidStateError(CLOSED_WHILE_COMPRESSING), false);
        return;
      }
      queue.shift();
      this.#queuedBytes -= size ?? 0;
      if (error !== undefined) cb?.(error);
      else if (!writable) this.refuse(data, cb);
      else if (frame !== undefined) this.#writeFrame(frame.opcode, frame.payload, frame.fin, frame.mask, cb, frame.rsv1);
      else this.#send(data as Exclude<Data, Blob>, options, cb, true);
    }
    if (queue.length === 0) {
      this.#queue = undefined;
      if (this.#is(Flag.NEED_DRAIN) && this.#socket !== undefined && !this.#socket.writableNeedDrain) {
        this.#flags &= ~Flag.NEED_DRAIN;
        this.#ws.emit('drain');
      }
    }
  }

  /**
   * Fails every queued send with `error` and empties the queue. With `fatal` (a Blob that could
   * not be read) the connection fails too, as in `ws` (the state machine's `sendFailed`).
   */
  #failQueue(error: Error, fatal: boolean): void {
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    this.#queuedBytes = 0;
    for (const entry of queue) entry.cb?.(error);
    if (fatal) this.#ws[kApply](sendFailed(this.#ws[kState]), error);
  }

  /** The socket closed: sends still being compressed fail now, as in `ws` (a Blob being read settles first). */
  socketClosed(): void {
    // Frames still waiting for the end-of-turn flush cannot leave: writing them to the destroyed
    // socket hands their callbacks the error a direct write would have.
    this.flush();
    const head = this.#queue?.[0];
    if (head !== undefined && !head.ready && head.blob !== true) this.#failQueue(new InvalidStateError(CLOSED_WHILE_COMPRESSING), false);
  }

  /**
   * Applies the cap on queued bytes: a send is accepted while fewer than `maxBufferedAmount`
   * bytes wait (docs/errors.md, `ERR_WS_BUFFER_OVERFLOW`).
   */
  #admit(cb: SendCallback | undefined): boolean {
    const cap = this.#settings.maxBufferedAmount;
    if (cap === 0 || this.#socket === undefined || this.#socket.writableLength + this.#outBytes + this.#queuedBytes < cap) return true;
    const error = new ParleyError(ErrorCode.BUFFER_OVERFLOW, `more than ${cap} bytes queued for a peer that is not reading`, CloseCode.PolicyViolation);
    if (this.#settings.bufferOverflow === 'refuse') {
      if (cb !== undefined) process.nextTick(cb, error);
      this.#flags |= Flag.NEED_DRAIN;
      // With a cap below the socket's high-water mark the socket itself will not emit 'drain':
      // an empty write completes once everything before it has been flushed.
      // It goes behind the frames of this turn that wait for the end-of-turn flush.
      if (!this.#socket.writableNeedDrain && !this.#is(Flag.DRAIN_PROBE)) {
        this.#flags |= Flag.DRAIN_PROBE;
        this.#queueOut(EMPTY, () => {
          this.#flags &= ~Flag.DRAIN_PROBE;
          this.emitDrain();
        });
      }
      return false;
    }
    this.#ws[kApply](errorOccurred(this.#ws[kState]), error);
    this.#ws.close(CloseCode.PolicyViolation);
    if (cb !== undefined) process.nextTick(cb, error);
    return false;
  }

  /** Emits 'drain' if a send returned false since the last one. */
  emitDrain(): void {
    if (!this.#is(Flag.NEED_DRAIN)) return;
    this.#flags &= ~Flag.NEED_DRAIN;
    this.#ws.emit('drain');
  }

  /** Sends a ping or pong the protocol allowed (control frames may go between fragments, RFC 6455 §5.4). */
  control(opcode: number, bytes: Buffer, mask: boolean | undefined, cb: SendCallback | undefined): void {
    if (!this.#admit(cb)) return;
    this.#writeFrame(opcode, bytes, true, mask ?? !this.#is(Flag.IS_SERVER), cb);
  }

  /**
   * Writes our close frame (RFC 6455 §5.5.1) behind the messages sent before it, and `written`
   * when it has reached the socket.
   */
  sendClose(payload: Buffer, written: SendCallback): void {
    const mask = !this.#is(Flag.IS_SERVER);
    if (this.#queue !== undefined) {
      // Messages sent before close() are still being compressed (or read): the close frame follows them.
      this.#queue.push({ ready: true, data: EMPTY, options: undefined, cb: written, frame: { opcode: Opcode.Close, payload, fin: true, mask, rsv1: false } });
    } else {
      this.#writeFrame(Opcode.Close, payload, true, mask, written);
      // The close frame (and the frames of this turn ahead of it) leave now, not at the end of
      // the turn: a close is not on the per-message path, and `bufferedAmount` then reads as in
      // `ws` right after close() (0 when the socket takes the bytes at once).
      this.flush();
    }
  }

  #writeFrame(opcode: number, payload: Buffer, fin: boolean, mask: boolean, cb: SendCallback | undefined, rsv1 = false): boolean {
    const generateMask = this.#settings.generateMask;
    const maskKey = !mask ? undefined : generateMask === undefined ? nextMaskKey() : customMaskKey(generateMask);
    if (maskKey !== undefined || payload.length <= COPY_LIMIT) {
      return this.#queueOut(encodeFrame(opcode, payload, { fin, rsv1, maskKey, mask: fastMask }, allocate) as Buffer, cb);
    }
    // A large unmasked payload is not copied: it leaves now, behind its own header and the frames
    // queued before it, in one writev. Kept until the end of the turn, it would carry whatever
    // the application wrote into its Buffer meanwhile; and one system call per 16 KiB or more
    // costs little next to the copy that batching it would need.
    const header = encodeFrameHeader(opcode, payload.length, { fin, rsv1 }, allocate) as Buffer;
    const socket = this.#socket!;
    socket.cork();
    this.flush();
    socket.write(header);
    const below = socket.write(payload, cb);
    socket.uncork();
    if (!below) this.#flags |= Flag.NEED_DRAIN;
    return below;
  }

  /**
   * Queues a frame for the end-of-turn flush (write-batch.ts): every frame sent to a connection
   * in one turn of the event loop leaves in one write, whichever API sent it.
   * @returns whether the bytes waiting for this socket stay below its high-water mark
   */
  #queueOut(frame: Buffer, cb: SendCallback | undefined): boolean {
    if (this.#out === undefined) {
      this.#out = [frame];
      scheduleFlush(this);
    } else {
      this.#out.push(frame);
    }
    this.#outBytes += frame.length;
    if (cb !== undefined) (this.#outCallbacks ??= []).push(cb);
    const socket = this.#socket;
    const below = socket === undefined || this.#outBytes + socket.writableLength < socket.writableHighWaterMark;
    // The caller was told to wait for 'drain': it must come even if the flush's write is taken whole.
    if (!below) this.#flags |= Flag.NEED_DRAIN;
    return below;
  }

  /** Whether frames wait for the end-of-turn flush. */
  get batched(): boolean {
    return this.#out !== undefined;
  }

  /**
   * Writes the queued frames in one write: small ones copied together, large ones as a writev.
   * On a destroyed socket the write reports the error to the callbacks, as a direct write does.
   */
  flush(): void {
    const out = this.#out;
    const callbacks = this.#outCallbacks;
    const bytes = this.#outBytes;
    this.#out = undefined;
    this.#outCallbacks = undefined;
    this.#outBytes = 0;
    const socket = this.#socket;
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
    if (!below) this.#flags |= Flag.NEED_DRAIN;
  }

  /** The end-of-turn flush of frames queued by a send (write-batch.ts). */
  [kFlush](): void {
    this.flush();
    // A send that returned false waits for 'drain'. When the flush's write was taken whole and
    // nothing else will report it (the socket's own 'drain', the refusal's probe, the compression
    // queue), it is due now; on the next tick, so a throwing listener cannot stop other flushes.
    const socket = this.#socket;
    if (this.#is(Flag.NEED_DRAIN) && !this.#is(Flag.DRAIN_PROBE) && this.#queue === undefined && socket !== undefined && !socket.writableNeedDrain && !socket.destroyed) {
      process.nextTick(drainLater, this);
    }
  }

  /**
   * A send the protocol refused (the connection is not open, RFC 6455 §7.1.4): its bytes count
   * in `bufferedAmount` and its callback gets the error, as in `ws`.
   */
  refuse(data: Data | undefined, cb: SendCallback | undefined): void {
    if (data !== undefined) this.#refusedBytes += isBlob(data) ? data.size : toBytes(data).length;
    if (cb !== undefined) {
      const ready = readyStateOf(this.#ws[kState]);
      process.nextTick(cb, new InvalidStateError(`WebSocket is not open: readyState ${ready} (${READY_STATE_NAMES[ready] ?? 'CLOSED'})`));
    }
  }
}

function drainLater(sender: Sender): void {
  sender.emitDrain();
}

/** A masking key from the application's `generateMask` (a `ws` client option), which fills 4 bytes. */
function customMaskKey(generateMask: (mask: Buffer) => void): Buffer {
  const key = Buffer.alloc(4);
  generateMask(key);
  return key;
}
