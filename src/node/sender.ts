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
  ClosedError,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ParleyError,
  encodeFrame,
  frameHeaderSize,
  writeFrameHeader,
} from '../protocol/index.js';
import {
  Action, actionsOf, continuesMessage, controlCalled, dataFrameSent, errorOccurred, readyStateOf, sendCalled, sendFailed, stateOf, wholeMessageCalled, ReadyState, type Step,
} from '../protocol/connection.js';
import { allocate, isBlob, toBytes, type Data } from './buffers.js';
import { ConnectionFlag, kApply, kClosing, kDeflate, kFlags, kSender, kSettings, kSocket, kState } from './internal.js';
import type { ConnectionSettings } from './settings.js';
import { BatchFlag, COPY_LIMIT, FRAME_BATCH_BITS, FrameBatch } from './write-batch.js';
import { cachedFrame, rememberFrame } from './frame-cache.js';
import type { PerMessageDeflate } from './deflate-codec.js';
import { PreparedCompressedMessage } from './prepared-compressed.js';
import { PreparedMessage as PreparedMessageClass, type PreparedMessage } from './prepared-message.js';
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

/** What the sender needs of its connection: its fields (internal.ts) and its API. */
export interface SendHost {
  readonly readyState: number;
  [kState]: number;
  [kFlags]: number;
  readonly [kSocket]: Duplex | undefined;
  readonly [kSettings]: ConnectionSettings;
  readonly [kDeflate]: PerMessageDeflate | undefined;
  [kSender]: Sender | undefined;
  /** The close handshake's record, for the close code and reason a cut-off send reports. */
  readonly [kClosing]: { readonly code: number; readonly reason: Buffer } | undefined;
  [kApply](step: Step, error?: unknown, closeCode?: number, closeReason?: string | Buffer): void;
  emit(event: 'drain'): boolean;
  close(code?: number): void;
  send(data: PreparedMessage, cb?: SendCallback): boolean;
}

/** The connection's send side, made on its first use: a connection that never sends has none. */
export function sendSide(ws: SendHost): Sender {
  return (ws[kSender] ??= new Sender(ws, ws[kSocket], ws[kSettings], ws[kDeflate], (ws[kFlags] & ConnectionFlag.IS_SERVER) !== 0));
}

/** Bits of `Sender.flags` above the batch's (write-batch.ts). */
const Flag = {
  ...BatchFlag,
  /** The message being sent (possibly in fragments) is compressed. */
  COMPRESSING: 1 << FRAME_BATCH_BITS,
} as const;

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
export class Sender extends FrameBatch {
  readonly #host: SendHost;
  readonly #deflate: PerMessageDeflate | undefined;
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
    super(ws, socket, settings, isServer);
    this.#host = ws;
    this.#deflate = deflate;
  }

  /** Bytes held here: batched, queued, and refused after close (all count in `bufferedAmount`). */
  get bufferedBytes(): number {
    return this.outBytes + this.#queuedBytes + this.#refusedBytes;
  }

  /** Whether sends wait in the queue (behind a Blob or a compression). */
  protected get waiting(): boolean {
    return this.#queue !== undefined;
  }

  #setFlag(flag: number, on: boolean): void {
    if (on) this.flags |= flag;
    else this.flags &= ~flag;
  }

  /**
   * `WebSocket.send` past the CONNECTING check: the protocol decides whether the message may go
   * (refused unless OPEN, RFC 6455 §7.1.4) and tracks a message sent in fragments (§5.4).
   */
  message(data: Exclude<Data, number> | PreparedMessage, options: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    const ws = this.#host;
    if (data instanceof PreparedMessageClass) {
      const actions = actionsOf(wholeMessageCalled(ws[kState]));
      if ((actions & Action.WAIT) !== 0) {
        (this.#afterFragments ??= []).push([data, cb]);
        return true;
      }
      if ((actions & Action.REFUSE) !== 0) {
        this.refuse(data.payload, cb);
        return false;
      }
      const sent = this.#sendPrepared(data, cb);
      if (sent !== undefined) return sent;
      // This connection sends the payload the ordinary way (client side, waiting sends, or a
      // compressed frame it cannot take).
      return this.#sendData(data.payload, { ...options, binary: data.binary }, cb);
    }
    const s = sendCalled(ws[kState], options?.fin ?? true);
    if ((actionsOf(s) & Action.REFUSE) !== 0) {
      this.refuse(data, cb);
      return false;
    }
    ws[kState] = stateOf(s);
    const result = this.#sendData(data, options, cb);
    // The last fragment is sent (or queued): the prepared messages that waited follow.
    if ((actionsOf(s) & Action.RELEASE_WAITING) !== 0) this.releaseWaiting();
    return result;
  }

  /** `ping`/`pong` past the CONNECTING check: at most 125 bytes (RFC 6455 §5.5), refused unless OPEN. */
  controlFrame(opcode: number, data: Data | undefined, mask: boolean | undefined, cb: SendCallback | undefined): void {
    if (isBlob(data)) {
      if (data.size > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
      if ((actionsOf(controlCalled(this.#host[kState])) & Action.REFUSE) !== 0) {
        this.refuse(data, cb);
        return;
      }
      // Read first, then sent as a control frame, which may go between other frames (RFC 6455 §5.4).
      data.arrayBuffer().then(
        (ab) => this.controlFrame(opcode, Buffer.from(ab), mask, cb),
        (error: unknown) => cb?.(error instanceof Error ? error : new Error(String(error))),
      );
      return;
    }
    const bytes = toBytes(typeof data === 'number' ? String(data) : data);
    if (bytes.length > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
    if ((actionsOf(controlCalled(this.#host[kState])) & Action.REFUSE) !== 0) {
      this.refuse(bytes, cb);
      return;
    }
    if (!this.#admit(cb)) return;
    this.writeFrame(opcode, bytes, true, mask ?? !this.is(Flag.IS_SERVER), cb);
  }

  /** Sends data the protocol allowed (OPEN): in order behind queued sends, or framed now. */
  #sendData(data: Data, options: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    if (this.#queue !== undefined || isBlob(data)) {
      this.#queueSend(data, options, cb);
      return true;
    }
    return this.#send(data, options, cb);
  }

  /** Sends the prepared messages that waited for a fragmented message to end (or fails them, when closed). */
  releaseWaiting(): void {
    const waiting = this.#afterFragments;
    if (waiting === undefined) return;
    this.#afterFragments = undefined;
    for (const [message, cb] of waiting) this.#host.send(message, cb);
  }

  /**
   * Sends a prepared message's frame as it is, when this connection can (server side, nothing
   * queued, a compressed frame it can take).
   * @returns the send's result, or undefined when the payload must be sent the ordinary way
   */
  #sendPrepared(message: PreparedMessage, cb: SendCallback | undefined): boolean | undefined {
    if (!this.is(Flag.IS_SERVER) || this.#queue !== undefined) return undefined;
    const frame = this.#preparedFrame(message);
    if (frame === undefined) return undefined;
    if (!this.#admit(cb)) return false;
    return this.queueOut(frame, cb);
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
    const ws = this.#host;
    const first = !continuesMessage(ws[kState]);
    const opcode = first ? (binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
    ws[kState] = stateOf(dataFrameSent(ws[kState], fin));
    const mask = options?.mask ?? !this.is(Flag.IS_SERVER);
    if (!this.#admit(cb)) return false;
    const deflate = this.#deflate;
    if (deflate !== undefined) {
      // Decided on the first fragment; the rest of the message follows (RFC 7692 §6.1).
      if (first) this.#setFlag(Flag.COMPRESSING, options?.compress !== false && (isString ? Buffer.byteLength(data, 'utf8') : (bytes ?? toBytes(data)).length) >= deflate.threshold);
      // Compression runs later, off the event loop: it gets a copy of the application's bytes,
      // which may change before zlib reads them (a string's bytes are already our own).
      if (this.is(Flag.COMPRESSING)) return this.#compress(opcode, bytes === undefined ? toBytes(data) : Buffer.from(bytes), fin, mask, first, cb, front);
    }
    if (isString && !mask && data.length < COPY_LIMIT) {
      // The same string sent to many connections in one turn is framed once (frame-cache.ts).
      const cached = cachedFrame(data, undefined, opcode, fin);
      if (cached !== undefined) return this.queueOut(cached, cb);
      // Strings are encoded straight behind the header: one allocation, one copy.
      const length = Buffer.byteLength(data, 'utf8');
      const size = frameHeaderSize(length, false);
      const out = Buffer.allocUnsafe(size + length);
      writeFrameHeader(out, 0, opcode, length, fin, false, undefined);
      out.write(data, size, 'utf8');
      rememberFrame(data, opcode, fin, out, size);
      return this.queueOut(out, cb);
    }
    const payload = bytes ?? toBytes(data);
    if (!mask && payload.length <= COPY_LIMIT) {
      // Copied behind its header now, so the frame holds the bytes of this call even if the
      // application reuses its Buffer; the same bytes sent to many connections are framed once.
      const cached = cachedFrame(data, payload, opcode, fin);
      if (cached !== undefined) return this.queueOut(cached, cb);
      const out = encodeFrame(opcode, payload, { fin }, allocate) as Buffer;
      rememberFrame(data, opcode, fin, out, out.length - payload.length);
      return this.queueOut(out, cb);
    }
    return this.writeFrame(opcode, payload, fin, mask, cb);
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
    const below = this.#bufferedAmount() < (this.socket?.writableHighWaterMark ?? Infinity);
    if (!below) this.flags |= Flag.NEED_DRAIN;
    return below;
  }

  #bufferedAmount(): number {
    return (this.socket?.writableLength ?? 0) + this.bufferedBytes;
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
      const socket = this.socket;
      const ready = this.#host.readyState;
      const writable = (ready === ReadyState.OPEN || ready === ReadyState.CLOSING) && socket !== undefined && !socket.destroyed && !socket.writableEnded;
      if (head.blob === true && (error !== undefined || !writable)) {
        // As `ws`: a Blob that cannot be read fails the connection, and the socket closing while
        // it was read fails it and every send behind it.
        this.#failQueue(error ?? this.#closedError(CLOSED_WHILE_READING), error !== undefined);
        return;
      }
      if (!writable && frame !== undefined && frame.opcode !== Opcode.Close) {
        this.#failQueue(this.#closedError(CLOSED_WHILE_COMPRESSING), false);
        return;
      }
      queue.shift();
      this.#queuedBytes -= size ?? 0;
      if (error !== undefined) cb?.(error);
      else if (!writable) this.refuse(data, cb);
      else if (frame !== undefined) this.writeFrame(frame.opcode, frame.payload, frame.fin, frame.mask, cb, frame.rsv1);
      else this.#send(data as Exclude<Data, Blob>, options, cb, true);
    }
    if (queue.length === 0) {
      this.#queue = undefined;
      if (this.is(Flag.NEED_DRAIN) && this.socket !== undefined && !this.socket.writableNeedDrain) {
        this.flags &= ~Flag.NEED_DRAIN;
        this.#host.emit('drain');
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
    if (fatal) this.#host[kApply](sendFailed(this.#host[kState]), error);
  }

  /** The socket closed: sends still being compressed fail now, as in `ws` (a Blob being read settles first). */
  socketClosed(): void {
    // Frames still waiting for the end-of-turn flush cannot leave: writing them to the destroyed
    // socket hands their callbacks the error a direct write would have.
    this.flush();
    const head = this.#queue?.[0];
    if (head !== undefined && !head.ready && head.blob !== true) this.#failQueue(this.#closedError(CLOSED_WHILE_COMPRESSING), false);
  }

  /**
   * Applies the cap on queued bytes: a send is accepted while fewer than `maxBufferedAmount`
   * bytes wait (docs/errors.md, `ERR_WS_BUFFER_OVERFLOW`).
   */
  #admit(cb: SendCallback | undefined): boolean {
    const cap = this.settings.maxBufferedAmount;
    if (cap === 0 || this.socket === undefined || this.socket.writableLength + this.outBytes + this.#queuedBytes < cap) return true;
    const error = new ParleyError(ErrorCode.BUFFER_OVERFLOW, `more than ${cap} bytes queued for a peer that is not reading`, CloseCode.PolicyViolation);
    if (this.settings.bufferOverflow === 'refuse') {
      if (cb !== undefined) process.nextTick(cb, error);
      this.flags |= Flag.NEED_DRAIN;
      // With a cap below the socket's high-water mark the socket itself will not emit 'drain':
      // an empty write completes once everything before it has been flushed.
      // It goes behind the frames of this turn that wait for the end-of-turn flush.
      if (!this.socket.writableNeedDrain && !this.is(Flag.DRAIN_PROBE)) {
        this.flags |= Flag.DRAIN_PROBE;
        this.queueOut(EMPTY, () => {
          this.flags &= ~Flag.DRAIN_PROBE;
          this.emitDrain();
        });
      }
      return false;
    }
    this.#host[kApply](errorOccurred(this.#host[kState]), error);
    this.#host.close(CloseCode.PolicyViolation);
    if (cb !== undefined) process.nextTick(cb, error);
    return false;
  }

  /**
   * Writes our close frame (RFC 6455 §5.5.1) behind the messages sent before it, and `written`
   * when it has reached the socket.
   */
  sendClose(payload: Buffer, written: SendCallback): void {
    const mask = !this.is(Flag.IS_SERVER);
    if (this.#queue !== undefined) {
      // Messages sent before close() are still being compressed (or read): the close frame follows them.
      this.#queue.push({ ready: true, data: EMPTY, options: undefined, cb: written, frame: { opcode: Opcode.Close, payload, fin: true, mask, rsv1: false } });
    } else {
      this.writeFrame(Opcode.Close, payload, true, mask, written);
      // The close frame (and the frames of this turn ahead of it) leave now, not at the end of
      // the turn: a close is not on the per-message path, and `bufferedAmount` then reads as in
      // `ws` right after close() (0 when the socket takes the bytes at once).
      this.flush();
    }
  }

  /** An operation the closing or closed connection cut off: with the peer's close code and reason so far. */
  #closedError(message: string): ClosedError {
    const closing = this.#host[kClosing];
    return closing === undefined ? new ClosedError(message) : new ClosedError(message, closing.code, closing.reason.toString());
  }

  /**
   * A send the protocol refused (the connection is not open, RFC 6455 §7.1.4): its bytes count
   * in `bufferedAmount` and its callback gets the error, as in `ws`.
   */
  refuse(data: Data | undefined, cb: SendCallback | undefined): void {
    if (data !== undefined) this.#refusedBytes += isBlob(data) ? data.size : toBytes(data).length;
    if (cb !== undefined) {
      const ready = readyStateOf(this.#host[kState]);
      process.nextTick(cb, this.#closedError(`WebSocket is not open: readyState ${ready} (${READY_STATE_NAMES[ready] ?? 'CLOSED'})`));
    }
  }
}


