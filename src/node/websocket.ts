/**
 * `WebSocket`: one connection, either side. The public API is that of `ws` 8 (events
 * `open`/`message`/`close`/`error`/`ping`/`pong`, `send`/`close`/`ping`/`pong`/`terminate`), and
 * it also implements the WHATWG interface (`addEventListener`, `onmessage`, `binaryType`
 * `'arraybuffer' | 'blob'`), so browser code runs on Node.
 *
 * Framing and parsing are the sans-I/O core's; this file only binds them to a socket.
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ClosedError,
  ErrorCode,
  InvalidStateError,
  MAX_CLOSE_REASON,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ParleyError,
  Receiver,
  ReceiverConfig,
  encodeClosePayload,
  encodeFrame,
  encodeFrameHeader,
  frameHeaderSize,
  isValidCloseCode,
  writeFrameHeader,
  ProtocolError,
  ProtocolErrorCode,
  type ReceiverHandler,
} from '../protocol/index.js';
import { allocate, asBuffer, fastMask, fastMaskCopy, isBlob, nextMaskKey, toBytes, utf8Check, type Data } from './buffers.js';
import { WsCloseEvent, WsErrorEvent, WsEvent, WsMessageEvent, type EventListenerLike } from './events.js';
import { kAbortHandshake, kAttach, kHeartbeat, kHeartbeatStart, kObserveClose, kSetNegotiated, kSetRequest, type CloseObserver } from './internal.js';
import { DEFAULT_SETTINGS, resolveSettings, type ConnectionSettings } from './settings.js';
import { connectClient, type ClientOptions } from './client-handshake.js';
import { PreparedMessage } from './prepared-message.js';
import { kFlush, scheduleFlush } from './write-batch.js';
import { cachedFrame, rememberFrame } from './frame-cache.js';
import { PerMessageDeflate, PreparedCompressedMessage, type DeflateSetup } from './deflate-codec.js';
import type { WebSocketEvents } from './websocket-events.js';
import type * as wsTypes from './ws-types.js';
import type { BivariantCallback, EventListenerOptions, ReadyState } from './ws-types.js';

export type { RawData } from './ws-types.js';

/** `binaryType` values: `ws`'s three plus the browser's `'blob'`. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

/** Options of {@link WebSocket.send}. */
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

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/**
 * Bits of `WebSocket.#flags`. Fourteen boolean fields cost 8 bytes each on every connection;
 * memory per idle connection is a headline figure (docs/benchmarks.md).
 */
const Flag = {
  IS_SERVER: 1 << 0,
  CLOSE_FRAME_SENT: 1 << 1,
  CLOSE_FRAME_RECEIVED: 1 << 2,
  /** The receiver failed (protocol error or a throwing handler): no close frame will come. */
  RECEIVER_FAILED: 1 << 3,
  ERROR_EMITTED: 1 << 4,
  /** Reading paused by the application. */
  PAUSED: 1 << 5,
  /** A fragmented message is being sent with `fin: false`. */
  SENDING_FRAGMENTS: 1 << 6,
  /**
   * The application has called `send(…, { fin: false })` and not yet sent the last fragment.
   * Unlike SENDING_FRAGMENTS this follows calls, not frames written, so it also covers
   * fragments still waiting in `#sendQueue`.
   */
  FRAGMENTING: 1 << 7,
  NEED_DRAIN: 1 << 8,
  /** An empty write is pending to learn when the refused sender may go on. */
  DRAIN_PROBE: 1 << 9,
  /** The message being sent (possibly in fragments) is compressed. */
  COMPRESSING: 1 << 10,
  /** A received message is being inflated; the end of the stream waits for it (and what follows it). */
  INFLATING: 1 << 11,
  END_PENDING: 1 << 12,
  CLOSE_PENDING: 1 << 13,
  /**
   * Bytes arrived since the last heartbeat tick, which then records the tick's time: a bit set
   * per chunk instead of a clock read and a boxed double on every connection.
   */
  RECEIVED: 1 << 14,
} as const;

/** `binaryType` lives in two bits of `#flags`, as its index in this list. */
const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
const BINARY_TYPE_SHIFT = 15;
const BINARY_TYPE_MASK = 3 << BINARY_TYPE_SHIFT;

/**
 * The prototype of every connection's `_events`. EventEmitter makes `_events` a null-prototype
 * object literal, which V8 keeps in dictionary mode (about 184 bytes); an object created from an
 * empty null-prototype object is a fast object sharing one hidden class across connections
 * (about 56 bytes), and still has no inherited names for an event to collide with.
 */
const EVENTS_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

/** Payloads up to this size are copied behind their header and written once; larger ones go as two buffers. */
const COPY_LIMIT = 16 * 1024;
const EMPTY = Buffer.alloc(0);
const WHATWG_EVENTS = ['open', 'message', 'close', 'error'] as const;
type WhatwgEvent = (typeof WHATWG_EVENTS)[number];

/** The owning WebSocket is kept on its socket under this key, for the shared listeners. */
const kOwner = Symbol('parley.owner');
type OwnedSocket = Duplex & { [kOwner]: WebSocket };

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

/** What the callbacks of sends still queued learn when the socket closes under them (`ws`'s words). */
const CLOSED_WHILE_READING = 'The socket was closed while the blob was being read';
const CLOSED_WHILE_COMPRESSING = 'The socket was closed while data was being compressed';

/**
 * What the opening handshake set, in one object created only when something differs from the
 * defaults: most server connections (no subprotocol, no extension) have none. Memory per idle
 * connection is a headline figure (docs/benchmarks.md); each field costs 8 bytes on every one.
 */
interface Handshake {
  /** The URL connected to (client). */
  url: string;
  /** The subprotocol the server selected. */
  protocol: string;
  /** The negotiated extensions, as in the response header. */
  extensions: string;
  /** Client side: the handshake request, until the upgrade. */
  request: import('node:http').ClientRequest | undefined;
  /** Client side: redirects followed so far. */
  redirects: number;
  /** permessage-deflate as agreed, until the socket is attached and its codec made. */
  deflateSetup: DeflateSetup | undefined;
}

/** The close handshake's state, created when it starts (or a send comes after close). */
interface Closing {
  /** Code of the peer's close frame. */
  code: number;
  /** Reason of the peer's close frame (a copy). */
  reason: Buffer;
  /** Cuts the connection off when the close handshake takes longer than `closeTimeout`. */
  timer: NodeJS.Timeout | undefined;
  /** Bytes the application tried to send after the connection closed (as `ws` reports them). */
  bufferedAfterClose: number;
}

/** A listener registered through `addEventListener` or an `on<event>` attribute. */
interface WrappedListener {
  (...args: unknown[]): void;
  listener: EventListenerLike;
  attribute: boolean;
}

/**
 * A WebSocket connection.
 *
 * On the client, `new WebSocket(url, protocols?, options?)` connects. On the server, instances
 * come from {@link WebSocketServer}'s `connection` event.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- adds typed event overloads only
export class WebSocket extends EventEmitter {
  /** The connection is being established. */
  static readonly CONNECTING = CONNECTING;
  /** The connection is open. */
  static readonly OPEN = OPEN;
  /** The close handshake has started. */
  static readonly CLOSING = CLOSING;
  /** The connection is closed. */
  static readonly CLOSED = CLOSED;

  /**
   * Application data attached to this connection, set by the server's `authenticate` hook (or
   * freely by the application).
   */
  data: unknown = undefined;

  #readyState: number = CONNECTING;
  /** The connection's yes/no state, one bit each (see `Flag`): one field instead of fourteen. */
  #flags = 0;
  #socket: Duplex | undefined;
  /** The frame parser, made when the first bytes arrive: a connection that never sends has none. */
  #receiver: Receiver | undefined;
  #settings: ConnectionSettings;
  /** What the opening handshake set; none on a server connection without a subprotocol or extension. */
  #handshake: Handshake | undefined;

  /** The close handshake's state, from the first close frame, close() or send after close. */
  #closing: Closing | undefined;
  /**
   * Prepared messages sent while a fragmented message is open: a data frame may not appear inside
   * another message (RFC 6455 §5.4), so they wait for its last fragment.
   */
  #afterFragments: Array<[PreparedMessage, SendCallback | undefined]> | undefined;
  /** Sends wait here while a Blob is read, so messages keep their order. */
  #sendQueue: QueuedSend[] | undefined;
  /** Heartbeat tick time (performance.now) at which bytes were last seen to have arrived. */
  #lastReceived = 0;
  #pingedAt = 0;
  /** Frames waiting for the end-of-turn flush (see write-batch.ts), with their byte count. */
  #out: Buffer[] | undefined;
  #outBytes = 0;
  #outCallbacks: SendCallback[] | undefined;
  /** permessage-deflate's codec, once the socket is attached. */
  #deflate: PerMessageDeflate | undefined;
  /** Bytes of messages waiting in `#sendQueue` (being compressed or behind one). */
  #queuedBytes = 0;
  /** Server side: told of the close before the listeners (client tracking, heartbeat). */
  #closeObserver: CloseObserver | undefined;

  /**
   * Connects to `address` as a client.
   * @param address - `ws:`, `wss:`, `http:`, `https:` or `ws+unix:` URL
   * @param protocols - subprotocols to offer
   * @param options - `ws` client options plus Parley's (see {@link ClientOptions})
   * @throws SyntaxError for an invalid URL or subprotocol list
   */
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super({ captureRejections: true });
    (this as unknown as { _events: object })._events = Object.create(EVENTS_PROTOTYPE) as object;
    // As `ws`: an object (not null, not an array) in second place is the options.
    if (typeof protocols === 'object' && protocols !== null && !Array.isArray(protocols)) {
      options = protocols;
      protocols = undefined;
    }
    const opts = options ?? {};
    this.#settings = address === null ? DEFAULT_SETTINGS : resolveSettings(opts);
    if (address === null) this.#flags |= Flag.IS_SERVER;
    if (address !== null) {
      const list: readonly unknown[] = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
      connectClient(this, address, list, opts);
    }
  }

  #handshakeState(): Handshake {
    return (this.#handshake ??= { url: '', protocol: '', extensions: '', request: undefined, redirects: 0, deflateSetup: undefined });
  }

  #closingState(): Closing {
    return (this.#closing ??= { code: CloseCode.Abnormal, reason: EMPTY, timer: undefined, bufferedAfterClose: 0 });
  }

  /** An operation the closing or closed connection cut off: with the peer's close code and reason so far. */
  #closedError(message: string): ClosedError {
    const closing = this.#closing;
    return closing === undefined ? new ClosedError(message) : new ClosedError(message, closing.code, closing.reason.toString());
  }

  /** Whether a bit of `#flags` is set. */
  #is(flag: number): boolean {
    return (this.#flags & flag) !== 0;
  }

  /** Sets or clears a bit of `#flags`. */
  #setFlag(flag: number, on: boolean): void {
    if (on) this.#flags |= flag;
    else this.#flags &= ~flag;
  }

  // ---- ws / WHATWG properties ------------------------------------------------------------

  // The instance constants are data properties of the prototype, defined after the class with
  // the attributes WebIDL gives them (see `defineWebIdlAttributes`).
  /** @see WebSocket.CONNECTING */
  declare readonly CONNECTING: 0;
  /** @see WebSocket.OPEN */
  declare readonly OPEN: 1;
  /** @see WebSocket.CLOSING */
  declare readonly CLOSING: 2;
  /** @see WebSocket.CLOSED */
  declare readonly CLOSED: 3;

  /** Current state: 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get readyState(): ReadyState {
    return this.#readyState as ReadyState;
  }

  /** The URL connected to (client), or '' on the server. */
  get url(): string {
    return this.#handshake?.url ?? '';
  }

  /** The subprotocol the server selected, or ''. */
  get protocol(): string {
    return this.#handshake?.protocol ?? '';
  }

  /** The negotiated extensions, as in the `Sec-WebSocket-Extensions` response header. */
  get extensions(): string {
    return this.#handshake?.extensions ?? '';
  }

  /** How binary messages are delivered: Buffer (default), ArrayBuffer, array of Buffers, or Blob. */
  get binaryType(): BinaryType {
    return BINARY_TYPES[(this.#flags & BINARY_TYPE_MASK) >>> BINARY_TYPE_SHIFT]!;
  }

  set binaryType(type: BinaryType) {
    const index = BINARY_TYPES.indexOf(type);
    if (index !== -1) this.#flags = (this.#flags & ~BINARY_TYPE_MASK) | (index << BINARY_TYPE_SHIFT);
  }

  /** Bytes queued for sending and not yet handed to the operating system. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return (socket === undefined ? 0 : socket.writableLength) + this.#outBytes + this.#queuedBytes + (this.#closing?.bufferedAfterClose ?? 0);
  }

  /** Whether reading is paused by {@link WebSocket.pause}. */
  get isPaused(): boolean {
    return this.#is(Flag.PAUSED);
  }

  // ---- what programs written for `ws` read of its internals --------------------------------
  // Read-only, not enumerable. `ws._socket` in particular is how `ws` code reaches the peer's
  // address (`ws._socket.remoteAddress`); the others are what `ws`'s own tests inspect.

  /** The underlying socket once the connection is open (`ws`'s `_socket`), else null. */
  get _socket(): Duplex | null {
    return this.#socket ?? null;
  }

  /** Client side: the handshake request in flight (`ws`'s `_req`), else null. */
  get _req(): import('node:http').ClientRequest | null {
    return this.#handshake?.request ?? null;
  }

  /** Client side: redirects followed (`ws`'s `_redirects`). */
  get _redirects(): number {
    return this.#handshake?.redirects ?? 0;
  }

  /** The close handshake's timer while one runs (`ws`'s `_closeTimer`), else null. */
  get _closeTimer(): NodeJS.Timeout | null {
    return this.#closing?.timer ?? null;
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Sends a message.
   * @returns false when the data was queued above the socket's high-water mark or refused by the
   * `bufferOverflow: 'refuse'` policy; wait for `'drain'` before sending more
   * A {@link PreparedMessage} (framed once with `prepareMessage`) is written as it is on the
   * server side and batched with other frames until the end of the event-loop turn.
   * @throws InvalidStateError while CONNECTING (as `ws`); TypeError for data of another type
   */
  send(data: Data | PreparedMessage, options?: SendOptions | SendCallback, cb?: SendCallback): boolean {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this.#readyState === CONNECTING) {
      throw new InvalidStateError('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof data === 'number') data = String(data);
    if (data instanceof PreparedMessage) {
      if (this.#is(Flag.FRAGMENTING) && this.#readyState === OPEN) {
        (this.#afterFragments ??= []).push([data, cb]);
        return true;
      }
      const frame = this.#preparedFrame(data);
      if (frame !== undefined) return this.#enqueue(frame, cb);
      options = { ...options, binary: data.binary };
      data = data.payload;
    } else if (this.#readyState === OPEN) {
      const fin = options?.fin ?? true;
      if (!fin) this.#flags |= Flag.FRAGMENTING;
      else if (this.#is(Flag.FRAGMENTING)) {
        // The last fragment: once it is sent (or queued), the prepared messages that waited follow.
        this.#flags &= ~Flag.FRAGMENTING;
        const result = this.#sendData(data, options, cb);
        this.#sendAfterFragments();
        return result;
      }
    }
    return this.#sendData(data, options, cb);
  }

  #sendData(data: Data, options: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    if (this.#readyState !== OPEN) {
      this.#sendAfterClose(data, cb);
      return false;
    }
    if (this.#sendQueue !== undefined || isBlob(data)) {
      this.#queueSend(data, options, cb);
      return true;
    }
    return this.#send(data, options, cb);
  }

  /**
   * The bytes to write for a prepared message as they are, or undefined when this connection must
   * send its payload the ordinary way (client side, waiting sends, or a compressed frame it
   * cannot take).
   */
  #preparedFrame(message: PreparedMessage): Buffer | undefined {
    if (!this.#is(Flag.IS_SERVER) || this.#sendQueue !== undefined || this.#readyState !== OPEN) return undefined;
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

  /** Sends the prepared messages that waited for a fragmented message to end. */
  #sendAfterFragments(): void {
    const waiting = this.#afterFragments;
    if (waiting === undefined) return;
    this.#afterFragments = undefined;
    for (const [message, cb] of waiting) this.send(message, cb);
  }

  #send(data: Exclude<Data, Blob>, options: SendOptions | undefined, cb: SendCallback | undefined, front = false): boolean {
    const isString = typeof data === 'string';
    // Converted before any state changes, so a TypeError leaves the fragment state as it was.
    const bytes = isString ? undefined : toBytes(data);
    const binary = options?.binary ?? !isString;
    const fin = options?.fin ?? true;
    const first = !this.#is(Flag.SENDING_FRAGMENTS);
    const opcode = this.#is(Flag.SENDING_FRAGMENTS) ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text;
    this.#setFlag(Flag.SENDING_FRAGMENTS, !fin);
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
   * Compresses a message (or fragment) off the event loop. It waits in `#sendQueue`, and every
   * later send waits behind it, so frames leave in order; `front` puts it first (it is the queue
   * head being sent).
   */
  #compress(opcode: number, payload: Buffer, fin: boolean, mask: boolean, rsv1: boolean, cb: SendCallback | undefined, front: boolean): boolean {
    const entry: QueuedSend = { ready: false, data: payload, options: undefined, cb, size: payload.length };
    const queue = (this.#sendQueue ??= []);
    if (front) queue.unshift(entry);
    else queue.push(entry);
    this.#queuedBytes += payload.length;
    this.#deflate!.compress(payload, fin, (error, compressed) => {
      if (error !== null) entry.error = error;
      else entry.frame = { opcode, payload: compressed, fin, mask, rsv1 };
      entry.ready = true;
      this.#flushQueue();
    });
    const below = this.bufferedAmount < (this.#socket?.writableHighWaterMark ?? Infinity);
    if (!below) this.#flags |= Flag.NEED_DRAIN;
    return below;
  }

  /** Blobs are read asynchronously; later sends wait behind them so order is kept. */
  #queueSend(data: Data, options: SendOptions | undefined, cb: SendCallback | undefined): void {
    const queue = (this.#sendQueue ??= []);
    const size = isBlob(data) ? data.size : typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : toBytes(data).length;
    // Bytes wait here until what is ahead of them is sent: a copy, so a send carries the bytes it
    // was given even if the application reuses its Buffer meanwhile.
    const entry: QueuedSend = { ready: !isBlob(data), data: isBlob(data) || typeof data === 'string' ? data : Buffer.from(toBytes(data)), options, cb, size, blob: isBlob(data) };
    this.#queuedBytes += size;
    queue.push(entry);
    if (isBlob(data)) {
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
    const queue = this.#sendQueue;
    if (queue === undefined) return;
    while (queue.length > 0 && queue[0]!.ready) {
      const head = queue[0]!;
      const { data, options, cb, error, size, frame } = head;
      // Everything queued was accepted before close(), whose frame is queued last: it goes out.
      const socket = this.#socket;
      const writable = (this.#readyState === OPEN || this.#readyState === CLOSING) && socket !== undefined && !socket.destroyed && !socket.writableEnded;
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
      else if (!writable) this.#sendAfterClose(data, cb);
      else if (frame !== undefined) this.#writeFrame(frame.opcode, frame.payload, frame.fin, frame.mask, cb, frame.rsv1);
      else this.#send(data as Exclude<Data, Blob>, options, cb, true);
    }
    if (queue.length === 0) {
      this.#sendQueue = undefined;
      if (this.#is(Flag.NEED_DRAIN) && this.#socket !== undefined && !this.#socket.writableNeedDrain) {
        this.#flags &= ~Flag.NEED_DRAIN;
        this.emit('drain');
      }
    }
  }

  /**
   * Fails every queued send with `error` and empties the queue. With `fatal` (a Blob that could
   * not be read) the connection fails too, as in `ws`: CLOSING, the socket ended, 'error' emitted.
   */
  #failQueue(error: Error, fatal: boolean): void {
    const queue = this.#sendQueue ?? [];
    this.#sendQueue = undefined;
    this.#queuedBytes = 0;
    for (const entry of queue) entry.cb?.(error);
    if (!fatal || this.#readyState === CLOSED) return;
    if (this.#readyState === OPEN) {
      this.#readyState = CLOSING;
      this.#setCloseTimer();
    }
    if (this.#socket !== undefined) endSocket(this.#socket);
    this.#emitError(error);
  }

  /**
   * Applies the cap on queued bytes (bad-input guide §19): a send is accepted while fewer than
   * `maxBufferedAmount` bytes wait.
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
          this.#emitDrain();
        });
      }
      return false;
    }
    this.#emitError(error);
    this.close(CloseCode.PolicyViolation);
    if (cb !== undefined) process.nextTick(cb, error);
    return false;
  }

  #emitDrain(): void {
    if (!this.#is(Flag.NEED_DRAIN)) return;
    this.#flags &= ~Flag.NEED_DRAIN;
    this.emit('drain');
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
    this.#flush();
    socket.write(header);
    const below = socket.write(payload, cb);
    socket.uncork();
    if (!below) this.#flags |= Flag.NEED_DRAIN;
    return below;
  }

  /** Queues a frame for the end-of-turn flush, after admission. */
  #enqueue(frame: Buffer, cb: SendCallback | undefined): boolean {
    if (!this.#admit(cb)) return false;
    return this.#queueOut(frame, cb);
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

  /**
   * Writes the queued frames in one write: small ones copied together, large ones as a writev.
   * On a destroyed socket the write reports the error to the callbacks, as a direct write does.
   */
  #flush(): void {
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
      if (done !== undefined) process.nextTick(done, this.#closedError('WebSocket is not open: the socket has ended'));
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

  #sendAfterClose(data: Data | undefined, cb: SendCallback | undefined): void {
    if (data !== undefined) this.#closingState().bufferedAfterClose += isBlob(data) ? data.size : toBytes(data).length;
    if (cb !== undefined) {
      const state = READY_STATE_NAMES[this.#readyState] ?? 'CLOSED';
      process.nextTick(cb, this.#closedError(`WebSocket is not open: readyState ${this.#readyState} (${state})`));
    }
  }

  /**
   * Runs `fn` with the socket corked, so every frame it sends leaves in one write.
   * @returns what `fn` returns
   */
  cork<T>(fn: () => T): T {
    const socket = this.#socket;
    if (socket === undefined) return fn();
    socket.cork();
    try {
      return fn();
    } finally {
      socket.uncork();
    }
  }

  /**
   * Sends a ping (RFC 6455 §5.5.2). `data` is at most 125 bytes.
   * @throws InvalidStateError while CONNECTING; RangeError for data over 125 bytes
   */
  ping(data?: Data, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.#control(Opcode.Ping, data, mask, cb);
  }

  /**
   * Sends a pong (RFC 6455 §5.5.3), e.g. an unsolicited one as a heartbeat.
   * @throws InvalidStateError while CONNECTING; RangeError for data over 125 bytes
   */
  pong(data?: Data, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.#control(Opcode.Pong, data, mask, cb);
  }

  #control(opcode: number, data: Data | undefined, mask: boolean | SendCallback | undefined, cb: SendCallback | undefined): void {
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
      mask = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
      mask = undefined;
    }
    if (this.#readyState === CONNECTING) {
      throw new InvalidStateError('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (isBlob(data)) {
      if (data.size > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
      if (this.#readyState !== OPEN) {
        this.#sendAfterClose(data, cb);
        return;
      }
      // Read first, then sent as a control frame, which may go between other frames (RFC 6455 §5.4).
      const masked = mask;
      data.arrayBuffer().then(
        (ab) => this.#control(opcode, Buffer.from(ab), masked, cb),
        (error: unknown) => cb?.(error instanceof Error ? error : new Error(String(error))),
      );
      return;
    }
    const bytes = toBytes(typeof data === 'number' ? String(data) : data);
    if (bytes.length > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
    if (this.#readyState !== OPEN) {
      this.#sendAfterClose(bytes, cb);
      return;
    }
    if (!this.#admit(cb)) return;
    this.#writeFrame(opcode, bytes, true, mask ?? !this.#is(Flag.IS_SERVER), cb);
  }

  // ---- closing ---------------------------------------------------------------------------

  /**
   * Starts the close handshake (RFC 6455 §7.1.2): sends a close frame and waits for the peer's,
   * cutting the connection off after `closeTimeout`.
   * @param code - a code that may be sent (1000–1003, 1007–1014, 3000–4999)
   * @param reason - at most 123 bytes of UTF-8
   * @throws TypeError for an invalid code; SyntaxError for a reason over 123 bytes (as `ws`)
   */
  close(code?: number, reason?: string | Buffer): void {
    if (this.#readyState === CLOSED) return;
    if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code) || !isValidCloseCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    if (reason !== undefined && Buffer.byteLength(reason) > MAX_CLOSE_REASON) {
      throw new SyntaxError('The message must not be greater than 123 bytes');
    }
    if (this.#readyState === CONNECTING) {
      this[kAbortHandshake](new InvalidStateError('WebSocket was closed before the connection was established'));
      return;
    }
    if (this.#readyState === CLOSING) {
      if (this.#is(Flag.CLOSE_FRAME_SENT) && (this.#is(Flag.CLOSE_FRAME_RECEIVED) || this.#is(Flag.RECEIVER_FAILED))) this.#endSocket();
      return;
    }
    // As `ws`: a reason without a code is ignored (a close frame carries a reason only after a
    // code, RFC 6455 §5.5.1). Encoded before the state changes, so nothing can throw half-way.
    const payload = encodeClosePayload(code, code === undefined || reason === undefined ? undefined : typeof reason === 'string' ? reason : new Uint8Array(reason));
    this.#readyState = CLOSING;
    const written = (error?: Error | null): void => {
      if (error !== undefined && error !== null) return;
      this.#flags |= Flag.CLOSE_FRAME_SENT;
      // RFC 6455 §7.1.1: once both close frames have passed, the TCP connection is closed.
      if (this.#is(Flag.CLOSE_FRAME_RECEIVED) || this.#is(Flag.RECEIVER_FAILED)) this.#endSocket();
    };
    if (this.#sendQueue !== undefined) {
      // Messages sent before close() are still being compressed (or read): the close frame follows them.
      this.#sendQueue.push({ ready: true, data: EMPTY, options: undefined, cb: written, frame: { opcode: Opcode.Close, payload: asBuffer(payload), fin: true, mask: !this.#is(Flag.IS_SERVER), rsv1: false } });
    } else {
      this.#writeFrame(Opcode.Close, asBuffer(payload), true, !this.#is(Flag.IS_SERVER), written);
      // The close frame (and the frames of this turn ahead of it) leave now, not at the end of
      // the turn: a close is not on the per-message path, and `bufferedAmount` then reads as in
      // `ws` right after close() (0 when the socket takes the bytes at once).
      this.#flush();
    }
    this.#setCloseTimer();
  }

  #setCloseTimer(): void {
    const closing = this.#closingState();
    if (closing.timer !== undefined) return;
    const socket = this.#socket!;
    closing.timer = setTimeout(() => socket.destroy(), this.#settings.closeTimeout);
    closing.timer.unref?.();
  }

  /** Destroys the connection at once, without a close handshake. */
  terminate(): void {
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this[kAbortHandshake](new InvalidStateError('WebSocket was closed before the connection was established'));
      return;
    }
    // A handshake that failed (its 'error' listener may call this) has no socket to destroy.
    if (this.#socket === undefined) return;
    this.#readyState = CLOSING;
    // Frames sent earlier in this turn are handed to the socket first, as they would have been
    // without the end-of-turn batching (and as `ws` writes them at once): `send(); terminate()`
    // delivers what the kernel takes at once; what is still queued is discarded with the socket.
    this.#flush();
    this.#socket.destroy();
  }

  /** Stops reading from the peer (TCP backpressure) until {@link WebSocket.resume}. */
  pause(): void {
    if (this.#readyState === CONNECTING || this.#readyState === CLOSED || this.#socket === undefined) return;
    this.#flags |= Flag.PAUSED;
    this.#socket.pause();
  }

  /** Reads from the peer again after {@link WebSocket.pause}. */
  resume(): void {
    if (this.#readyState === CONNECTING || this.#readyState === CLOSED || this.#socket === undefined) return;
    this.#flags &= ~Flag.PAUSED;
    if (this.#receiver?.paused !== true) this.#socket.resume();
  }

  // ---- wiring ----------------------------------------------------------------------------

  /** @internal The client handshake made `request` to `url`, after `redirects` redirects. */
  [kSetRequest](request: import('node:http').ClientRequest, url: string, redirects: number): void {
    const handshake = this.#handshakeState();
    handshake.request = request;
    handshake.url = url;
    handshake.redirects = redirects;
  }

  /** @internal Records what the handshake negotiated (and permessage-deflate's parameters, if agreed). */
  [kSetNegotiated](protocol: string, extensions: string, deflate?: DeflateSetup): void {
    // The common server case, all defaults, needs no record.
    if (protocol === '' && extensions === '' && deflate === undefined && this.#handshake === undefined) return;
    const handshake = this.#handshakeState();
    handshake.protocol = protocol;
    handshake.extensions = extensions;
    handshake.deflateSetup = deflate;
  }

  /** @internal Registers the one observer told of the close before the 'close' listeners run. */
  [kObserveClose](observer: CloseObserver): void {
    this.#closeObserver = observer;
  }

  /** @internal Binds the upgraded socket: from here frames flow. */
  [kAttach](socket: Duplex, head: Buffer, settings?: ConnectionSettings): void {
    if (settings !== undefined) this.#settings = settings;
    const s = this.#settings;
    const handshake = this.#handshake;
    const deflateSetup = handshake?.deflateSetup;
    if (handshake !== undefined) {
      handshake.request = undefined;
      handshake.deflateSetup = undefined;
    }
    this.#socket = socket;
    // zlib streams are created on the first compressed message, not here (deflate-codec.ts).
    if (deflateSetup !== undefined) this.#deflate = new PerMessageDeflate(deflateSetup, this.#is(Flag.IS_SERVER), s.maxPayload);
    const net = socket as Duplex & { setNoDelay?(v: boolean): void; setTimeout?(ms: number): void };
    net.setTimeout?.(0);
    net.setNoDelay?.(true);
    // Bytes that came with the upgrade go first, and are read only after the application has
    // had the 'open'/'connection' event to attach its listeners (bad-input guide §7).
    if (head.length > 0) socket.unshift(head);
    // Shared listener functions find their WebSocket through the socket: no closures per
    // connection (memory per idle connection is a headline figure).
    (socket as OwnedSocket)[kOwner] = this;
    socket.on('data', WebSocket.#socketOnData);
    socket.on('end', WebSocket.#socketOnEnd);
    socket.on('close', WebSocket.#socketOnClose);
    socket.on('error', WebSocket.#socketOnError);
    socket.on('drain', WebSocket.#socketOnDrain);
    this.#readyState = OPEN;
    this.emit('open');
  }

  #makeReceiver(): Receiver {
    const receiver = new Receiver(new WebSocket.#Bridge(this), receiverConfig(this.#settings, this.#is(Flag.IS_SERVER), this.#deflate !== undefined));
    this.#receiver = receiver;
    return receiver;
  }

  static #socketOnData(this: OwnedSocket, chunk: Buffer): void {
    this[kOwner].#onData(chunk);
  }

  static #socketOnEnd(this: OwnedSocket): void {
    this[kOwner].#onEnd();
  }

  static #socketOnClose(this: OwnedSocket): void {
    this[kOwner].#onSocketClose();
  }

  static #socketOnError(this: OwnedSocket): void {
    this[kOwner].#onSocketError();
  }

  static #socketOnDrain(this: OwnedSocket): void {
    this[kOwner].#emitDrain();
  }

  /** Receives the parser's calls for one connection: one small object instead of five closures. */
  static #Bridge = class implements ReceiverHandler {
    readonly #ws: WebSocket;
    constructor(ws: WebSocket) {
      this.#ws = ws;
    }
    onMessage(data: Uint8Array, isBinary: boolean, compressed: boolean): void {
      if (compressed) this.#ws.#inflate(data, isBinary);
      else this.#ws.#onMessage(data, isBinary);
    }
    onPing(data: Uint8Array): void {
      const ws = this.#ws;
      if (ws.#settings.autoPong && ws.#readyState === OPEN) ws.pong(asBuffer(data), !ws.#is(Flag.IS_SERVER));
      ws.emit('ping', asBuffer(data));
    }
    onPong(data: Uint8Array): void {
      this.#ws.emit('pong', asBuffer(data));
    }
    onClose(code: number, reason: Uint8Array): void {
      this.#ws.#onCloseFrame(code, reason);
    }
    onError(error: ProtocolError): void {
      this.#ws.#onProtocolError(error);
    }
  };

  #onData(chunk: Buffer): void {
    this.#flags |= Flag.RECEIVED;
    try {
      (this.#receiver ?? this.#makeReceiver()).push(chunk);
    } catch (error) {
      // The application's own handler threw: that connection closes with 1011 and everything
      // else carries on (bad-input guide §21).
      this.#applicationError(error);
    }
    // What the handlers of this chunk's messages sent back on this connection (an echo, a reply,
    // pongs) leaves now, in one write, rather than at the end of the turn: a reply does not wait
    // for the rest of the turn's I/O, and sends to other connections still batch per turn.
    if (this.#out !== undefined) this.#flush();
  }

  #onMessage(data: Uint8Array, isBinary: boolean): void {
    const buf = asBuffer(data);
    if (!isBinary) {
      this.emit('message', buf, false);
      return;
    }
    let out: unknown;
    switch (this.binaryType) {
      case 'nodebuffer': out = buf; break;
      case 'arraybuffer': out = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength); break;
      case 'fragments': out = [buf]; break;
      default: out = new Blob([buf]);
    }
    this.emit('message', out, true);
  }

  /**
   * Inflates a compressed message (RFC 7692 §7.2.2) with the receiver and the socket paused, so
   * the messages after it wait their turn; the receiver resumes once it is delivered.
   */
  #inflate(data: Uint8Array, isBinary: boolean): void {
    const receiver = this.#receiver!;
    const socket = this.#socket!;
    receiver.pause();
    socket.pause();
    this.#flags |= Flag.INFLATING;
    this.#deflate!.decompress(asBuffer(data), (error, message) => {
      this.#flags &= ~Flag.INFLATING;
      if (this.#readyState === CLOSED) return;
      if (receiver.stopped) {
        this.#afterInflate();
        return;
      }
      if (error === null && !isBinary && !this.#settings.skipUTF8Validation && !utf8Check(message)) {
        error = new ProtocolError(ProtocolErrorCode.INVALID_UTF8, 'Invalid WebSocket frame: invalid UTF-8 sequence', CloseCode.InvalidPayload);
      }
      if (error !== null) {
        receiver.destroy();
        this.#onProtocolError(error);
        socket.resume(); // to read the peer's close frame and end of stream
        this.#afterInflate();
        return;
      }
      try {
        this.#onMessage(message, isBinary);
        receiver.resume();
      } catch (e) {
        // As in #onData: the application's handler threw; this connection closes with 1011.
        this.#applicationError(e);
        socket.resume();
      }
      if (!this.#is(Flag.INFLATING) && !receiver.paused && !this.#is(Flag.PAUSED)) socket.resume();
      this.#afterInflate();
    });
  }

  /** Runs what the end of the stream deferred while a message was inflating, once none is. */
  #afterInflate(): void {
    if (this.#is(Flag.INFLATING)) return;
    if (this.#is(Flag.END_PENDING)) {
      this.#flags &= ~Flag.END_PENDING;
      this.#onEnd();
    }
    if (this.#is(Flag.CLOSE_PENDING)) {
      this.#flags &= ~Flag.CLOSE_PENDING;
      this.#onSocketClose();
    }
  }

  #onCloseFrame(code: number, reason: Uint8Array): void {
    this.#flags |= Flag.CLOSE_FRAME_RECEIVED;
    const closing = this.#closingState();
    closing.code = code;
    closing.reason = Buffer.from(reason); // a copy: the received chunk is not kept alive
    // RFC 6455 §5.5.1: answer with a close frame echoing the status code.
    if (this.#readyState === OPEN) {
      if (code === CloseCode.NoStatus) this.close();
      else this.close(code, closing.reason);
    } else {
      this.close();
    }
  }

  #onProtocolError(error: ProtocolError | ClosedError): void {
    this.#flags |= Flag.RECEIVER_FAILED;
    if (this.#readyState === OPEN) this.close(error.closeCode);
    else if (this.#readyState === CLOSING && this.#is(Flag.CLOSE_FRAME_SENT)) this.#endSocket();
    this.#emitError(error);
  }

  #applicationError(error: unknown): void {
    // A parser made only to be stopped, if none yet: bytes that arrive later are dropped.
    (this.#receiver ?? this.#makeReceiver()).destroy();
    this.#flags |= Flag.RECEIVER_FAILED;
    if (this.#readyState === OPEN) this.close(CloseCode.InternalError);
    this.#emitError(error);
  }

  /**
   * Reports an error through 'error' when the application listens for it. A peer can trigger
   * these at will, so with no listener they are not rethrown: nothing a peer sends may bring the
   * process down (a deliberate difference from `ws`).
   */
  #emitError(error: unknown): void {
    if (this.#is(Flag.ERROR_EMITTED)) return;
    this.#flags |= Flag.ERROR_EMITTED;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** EventEmitter's captureRejections hook: an async listener rejected. */
  [Symbol.for('nodejs.rejection')](error: unknown): void {
    if (this.#readyState === OPEN || this.#readyState === CLOSING) this.#applicationError(error);
    else this.#emitError(error);
  }

  #onEnd(): void {
    if (this.#is(Flag.INFLATING)) {
      this.#flags |= Flag.END_PENDING;
      return;
    }
    this.#readyState = this.#readyState === CLOSED ? CLOSED : CLOSING;
    this.#endSocket();
  }

  /** Ends our side of the TCP connection after the frames still waiting for the end-of-turn flush. */
  #endSocket(): void {
    this.#flush();
    endSocket(this.#socket!);
  }

  #onSocketError(): void {
    if (this.#readyState !== CLOSED) this.#readyState = CLOSING;
    this.#socket!.destroy();
  }

  #onSocketClose(): void {
    if (this.#is(Flag.INFLATING)) {
      // The message being inflated, and the close frame that may sit behind it, are still
      // delivered (as `ws` does); bytes left unread in the socket join them.
      this.#flags |= Flag.CLOSE_PENDING;
      for (let chunk: Buffer | null; (chunk = this.#socket!.read() as Buffer | null) !== null;) this.#receiver!.push(chunk);
      return;
    }
    // Frames still waiting for the end-of-turn flush cannot leave: writing them to the destroyed
    // socket hands their callbacks the error a direct write would have.
    this.#flush();
    // Sends still being compressed fail now, while CLOSING, as in `ws` (a Blob being read
    // settles first: its callback learns how the read ended).
    const head = this.#sendQueue?.[0];
    if (head !== undefined && !head.ready && head.blob !== true) this.#failQueue(this.#closedError(CLOSED_WHILE_COMPRESSING), false);
    this.#deflate?.close(); // zlib memory goes back now, not at garbage collection
    const closing = this.#closing;
    if (closing?.timer !== undefined) {
      clearTimeout(closing.timer);
      closing.timer = undefined;
    }
    // No bytes come after the socket's 'close': a connection that never received any has no parser to stop.
    this.#receiver?.destroy();
    this.#readyState = CLOSED;
    // Prepared messages still waiting for a fragmented message that never ended fail like any
    // send after close.
    this.#flags &= ~Flag.FRAGMENTING;
    this.#sendAfterFragments();
    const code = this.#is(Flag.CLOSE_FRAME_RECEIVED) ? (closing?.code ?? CloseCode.Abnormal) : CloseCode.Abnormal;
    const observer = this.#closeObserver;
    this.#closeObserver = undefined;
    observer?.connectionClosed(this);
    this.emit('close', code, closing?.reason ?? EMPTY);
  }

  /** @internal The client handshake failed or was aborted: report and close (as `ws`). */
  [kAbortHandshake](error: Error): void {
    // Once: destroying the request makes it report 'socket hang up', which lands here again.
    if (this.#readyState !== CONNECTING) return;
    this.#readyState = CLOSING;
    const handshake = this.#handshake;
    const request = handshake?.request;
    if (handshake !== undefined) handshake.request = undefined;
    request?.destroy();
    // As `ws`: 'error' is emitted while CLOSING, then the connection is CLOSED and 'close' follows.
    process.nextTick(() => {
      this.#emitError(error);
      this.#readyState = CLOSED;
      this.emit('close', CloseCode.Abnormal, EMPTY);
    });
  }

  /**
   * @internal One heartbeat tick. Pings a peer idle for `interval` ms; terminates one that sent
   * nothing for `timeout` ms after that ping.
   * @returns true when the connection was terminated
   */
  [kHeartbeat](now: number, interval: number, timeout: number): boolean {
    if (this.#readyState !== OPEN) return false;
    if (this.#is(Flag.RECEIVED)) {
      this.#flags &= ~Flag.RECEIVED;
      this.#lastReceived = now;
    }
    if (this.#pingedAt > this.#lastReceived) {
      if (now - this.#pingedAt >= timeout) {
        this.#emitError(new ParleyError(ErrorCode.HEARTBEAT_TIMEOUT, `no answer to a ping within ${timeout} ms`, CloseCode.Abnormal));
        this.terminate();
        return true;
      }
      return false;
    }
    if (now - this.#lastReceived >= interval) {
      this.#pingedAt = now;
      this.ping();
    }
    return false;
  }

  /** @internal The heartbeat starts watching: silence is counted from `now`. */
  [kHeartbeatStart](now: number): void {
    this.#lastReceived = now;
    this.#flags &= ~Flag.RECEIVED;
  }

  /** @internal The end-of-turn flush of frames queued by {@link WebSocket.send} (write-batch.ts). */
  [kFlush](): void {
    this.#flush();
    // A send that returned false waits for 'drain'. When the flush's write was taken whole and
    // nothing else will report it (the socket's own 'drain', the refusal's probe, the compression
    // queue), it is due now; on the next tick, so a throwing listener cannot stop other flushes.
    const socket = this.#socket;
    if (this.#is(Flag.NEED_DRAIN) && !this.#is(Flag.DRAIN_PROBE) && this.#sendQueue === undefined && socket !== undefined && !socket.writableNeedDrain && !socket.destroyed) {
      process.nextTick(WebSocket.#drainLater, this);
    }
  }

  static #drainLater = (ws: WebSocket): void => ws.#emitDrain();

  // ---- WHATWG EventTarget ----------------------------------------------------------------

  /**
   * Adds a DOM-style listener for 'open', 'message', 'close' or 'error'. Listeners receive
   * event objects (`MessageEvent.data` is a string for text).
   */
  addEventListener<K extends keyof wsTypes.WebSocketEventMap<WebSocket>>(type: K, listener: wsTypes.WebSocketEventListener<WebSocket, K> | null, options?: EventListenerOptions | boolean): void;
  addEventListener(type: string, listener: EventListenerLike | null, options?: EventListenerOptions | boolean): void;
  addEventListener(type: string, listener: EventListenerLike | null, options?: EventListenerOptions | boolean): void {
    if (listener === null || !isWhatwgEvent(type)) return;
    if (this.#findListener(type, listener) !== undefined) return; // no duplicates (DOM rule)
    const once = typeof options === 'object' && options.once === true;
    const wrapped = this.#wrap(type, listener, false);
    if (once) this.once(type, wrapped);
    else this.on(type, wrapped);
  }

  /** Removes a listener added with {@link WebSocket.addEventListener}. */
  removeEventListener<K extends keyof wsTypes.WebSocketEventMap<WebSocket>>(type: K, listener: wsTypes.WebSocketEventListener<WebSocket, K> | null): void;
  removeEventListener(type: string, listener: EventListenerLike | null): void;
  removeEventListener(type: string, listener: EventListenerLike | null): void {
    if (listener === null || !isWhatwgEvent(type)) return;
    const raw = this.#findListener(type, listener);
    if (raw !== undefined) this.removeListener(type, raw as WrappedListener);
  }

  /** The raw listener added by `addEventListener(type, listener)`, looking inside `once` wrappers. */
  #findListener(type: WhatwgEvent, listener: EventListenerLike): unknown {
    for (const raw of this.rawListeners(type) as Array<WrappedListener | { listener: WrappedListener }>) {
      // EventEmitter wraps `once` listeners; the wrapper's `listener` is ours.
      const wrapped = typeof (raw as WrappedListener).attribute === 'boolean' ? (raw as WrappedListener) : (raw as { listener: WrappedListener }).listener;
      if (wrapped.listener === listener && !wrapped.attribute) return raw;
    }
    return undefined;
  }

  /** Dispatches a Parley event object to its listeners; returns true (not cancelable). */
  dispatchEvent(event: WsEvent): boolean {
    event.target = this;
    this.emit(event.type, event);
    return true;
  }

  #wrap(type: WhatwgEvent, listener: EventListenerLike, attribute: boolean): WrappedListener {
    const call = (event: WsEvent): void => {
      event.target = this;
      if (typeof listener === 'function') listener.call(this, event);
      else listener.handleEvent(event);
    };
    let wrapped: WrappedListener;
    switch (type) {
      case 'open':
        wrapped = (() => call(new WsEvent('open'))) as WrappedListener;
        break;
      case 'message':
        wrapped = ((data: unknown, isBinary: unknown) => call(new WsMessageEvent(isBinary === true ? data : (data as Buffer).toString('utf8')))) as WrappedListener;
        break;
      case 'close':
        wrapped = ((code: unknown, reason: unknown) => call(new WsCloseEvent(code as number, (reason as Buffer).toString('utf8'), this.#is(Flag.CLOSE_FRAME_SENT) && this.#is(Flag.CLOSE_FRAME_RECEIVED)))) as WrappedListener;
        break;
      default:
        wrapped = ((error: unknown) => call(new WsErrorEvent(error))) as WrappedListener;
    }
    wrapped.listener = listener;
    wrapped.attribute = attribute;
    return wrapped;
  }

  #getAttribute(type: WhatwgEvent): EventListenerLike | null {
    for (const l of this.rawListeners(type) as WrappedListener[]) if (l.attribute) return l.listener;
    return null;
  }

  #setAttribute(type: WhatwgEvent, handler: unknown): void {
    for (const l of this.rawListeners(type) as WrappedListener[]) {
      if (l.attribute) {
        this.removeListener(type, l);
        break;
      }
    }
    if (typeof handler === 'function') this.on(type, this.#wrap(type, handler as EventListenerLike, true));
  }

  /** WHATWG `onopen` attribute. */
  get onopen(): ((event: wsTypes.Event<WebSocket>) => void) | null { return this.#getAttribute('open') as ((event: wsTypes.Event<WebSocket>) => void) | null; }
  set onopen(h: ((event: wsTypes.Event<WebSocket>) => void) | null) { this.#setAttribute('open', h); }
  /** WHATWG `onmessage` attribute. */
  get onmessage(): ((event: wsTypes.MessageEvent<WebSocket>) => void) | null { return this.#getAttribute('message') as ((event: wsTypes.MessageEvent<WebSocket>) => void) | null; }
  set onmessage(h: ((event: wsTypes.MessageEvent<WebSocket>) => void) | null) { this.#setAttribute('message', h); }
  /** WHATWG `onclose` attribute. */
  get onclose(): ((event: wsTypes.CloseEvent<WebSocket>) => void) | null { return this.#getAttribute('close') as ((event: wsTypes.CloseEvent<WebSocket>) => void) | null; }
  set onclose(h: ((event: wsTypes.CloseEvent<WebSocket>) => void) | null) { this.#setAttribute('close', h); }
  /** WHATWG `onerror` attribute. */
  get onerror(): ((event: wsTypes.ErrorEvent<WebSocket>) => void) | null { return this.#getAttribute('error') as ((event: wsTypes.ErrorEvent<WebSocket>) => void) | null; }
  set onerror(h: ((event: wsTypes.ErrorEvent<WebSocket>) => void) | null) { this.#setAttribute('error', h); }
}

/**
 * Gives `cls` (`WebSocket` or a subclass) the WebIDL attributes browsers and `ws` give it: the
 * ready-state constants are enumerable, read-only, non-configurable data properties of the class
 * and of its prototype, and the attributes are enumerable, configurable accessors of the
 * prototype (copied onto a subclass's own prototype, where code that lists them looks).
 * @internal
 */
export function defineWebIdlAttributes(cls: abstract new (...args: never[]) => WebSocket): void {
  const prototype = cls.prototype as object;
  for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
    const descriptor = { value, enumerable: true, writable: false, configurable: false };
    Object.defineProperty(cls, name, descriptor);
    Object.defineProperty(prototype, name, descriptor);
  }
  for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onclose', 'onerror', 'onmessage', 'onopen']) {
    let descriptor: PropertyDescriptor | undefined;
    for (let o: object | null = prototype; o !== null && descriptor === undefined; o = Object.getPrototypeOf(o) as object | null) {
      descriptor = Object.getOwnPropertyDescriptor(o, name);
    }
    if (descriptor !== undefined) Object.defineProperty(prototype, name, { ...descriptor, enumerable: true, configurable: true });
  }
}
defineWebIdlAttributes(WebSocket);

/** Receiver configurations by settings and role, so the connections of a server share one. */
const receiverConfigs = new WeakMap<ConnectionSettings, Array<ReceiverConfig | undefined>>();

/** The shared {@link ReceiverConfig} for connections with these settings, role and RSV1 use. */
function receiverConfig(s: ConnectionSettings, isServer: boolean, allowRsv1: boolean): ReceiverConfig {
  let byRole = receiverConfigs.get(s);
  if (byRole === undefined) receiverConfigs.set(s, (byRole = []));
  const slot = (isServer ? 1 : 0) | (allowRsv1 ? 2 : 0);
  return (byRole[slot] ??= new ReceiverConfig({
    expectMasked: isServer,
    maxPayload: s.maxPayload,
    maxFragments: s.maxFragments,
    allowRsv1,
    skipUtf8Validation: s.skipUTF8Validation,
    utf8: utf8Check,
    mask: fastMask,
    maskCopy: fastMaskCopy,
    allocate,
  }));
}

/** A masking key from the application's `generateMask` (a `ws` client option), which fills 4 bytes. */
function customMaskKey(generateMask: (mask: Buffer) => void): Buffer {
  const key = Buffer.alloc(4);
  generateMask(key);
  return key;
}

/**
 * Ends the socket's writable side once. Calling `end()` again after it has ended makes Node
 * build an `ERR_STREAM_ALREADY_FINISHED` error with its stack trace, on every connection in the
 * handshake workload (2 % of the server's busy time in a CPU profile): the peer's FIN arrives
 * after the close handshake has already ended our side.
 */
function endSocket(socket: Duplex): void {
  if (!socket.writableEnded) socket.end();
}

function isWhatwgEvent(type: string): type is WhatwgEvent {
  return (WHATWG_EVENTS as readonly string[]).includes(type);
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the catch-all overloads mirror EventEmitter's own signatures */
/**
 * Typed event methods, as in `@types/ws`, so TypeScript code written for `ws` compiles unchanged:
 * an event of {@link WebSocketEvents} types its listener's arguments; any other name takes any
 * listener, as EventEmitter does.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- adds typed event overloads only
export interface WebSocket {
  on<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  removeListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependOnceListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
