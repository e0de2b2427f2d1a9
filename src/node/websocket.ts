/**
 * `WebSocket`: one connection, either side. The public API is that of `ws` 8 (events
 * `open`/`message`/`close`/`error`/`ping`/`pong`, `send`/`close`/`ping`/`pong`/`terminate`), and
 * it also implements the WHATWG interface (`addEventListener`, `onmessage`, `binaryType`
 * `'arraybuffer' | 'blob'`), so browser code runs on Node.
 *
 * One type, files by concern: the connection's state (the close handshake, failing the
 * connection, sends after close, a message sent in fragments) is the protocol's state machine
 * (src/protocol/connection.ts), whose actions this file carries out; the send side is sender.ts,
 * the receive side receive.ts, the WHATWG EventTarget glue event-target.ts, and the opening
 * handshake client-handshake.ts. This file holds the API, the socket's wiring and the close.
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, InvalidStateError, MAX_CLOSE_REASON, Opcode, ParleyError, isValidCloseCode } from '../protocol/index.js';
import {
  INITIAL_STATE, ReadyState as State, closeCalled, errorOccurred, handlerFailed, handshakeDone, handshakeFailed, readyStateOf, stateOf,
  terminateCalled, transportClosed, transportEnded, transportErrored, type Step,
} from '../protocol/connection.js';
import type { Data } from './buffers.js';
import type { EventListenerLike, WsEvent } from './events.js';
import { addEventListener, defineWebIdlAttributes, getAttribute, removeEventListener, setAttribute } from './event-target.js';
import {
  kAbortHandshake, kApply, kAttach, kHeartbeat, kHeartbeatStart, kObserveClose, kPeerClose, kSetNegotiated, kSetRequest, kState,
  kTransportClosed, kTransportEnded, kSocket, kSender, kSendSide, kCloseRecord, kCloseTimeout, kTakeRequest, kTakeObserver,
  type CloseObserver, type HandshakeTarget,
} from './internal.js';
import { CloseRecord, applyStep, peerClosed } from './close.js';
import { DEFAULT_SETTINGS, resolveSettings, type ConnectionSettings } from './settings.js';
import { connectClient, type ClientOptionsOf } from './client-handshake.js';
import { PreparedMessage } from './prepared-message.js';
import { PerMessageDeflate, type DeflateSetup } from './deflate-codec.js';
import { Sender, type SendCallback, type SendOptions } from './sender.js';
import { Inbound } from './receive.js';
import type { WebSocketEvents } from './websocket-events.js';
import type * as wsTypes from './ws-types.js';
import type { EventListenerOptions, ReadyState } from './ws-types.js';

export type { RawData } from './ws-types.js';
export type { SendCallback, SendOptions } from './sender.js';
export { defineWebIdlAttributes } from './event-target.js';

/** Client options: `ws`'s, plus Parley's connection options. Other `http.request` options pass through. */
export type ClientOptions = ClientOptionsOf<WebSocket>;

/** `binaryType` values: `ws`'s three plus the browser's `'blob'`. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

const { CONNECTING, OPEN, CLOSING, CLOSED } = State;

/**
 * Bits of `WebSocket.#flags`, the connection's Node-side yes/no state (the protocol's is
 * `#state`): one field instead of one per boolean, as memory per idle connection is a headline
 * figure (docs/benchmarks.md).
 */
const Flag = {
  IS_SERVER: 1 << 0,
  /** Reading paused by the application. */
  PAUSED: 1 << 1,
  /**
   * Bytes arrived since the last heartbeat tick, which then records the tick's time: a bit set
   * per chunk instead of a clock read and a boxed double on every connection.
   */
  RECEIVED: 1 << 2,
} as const;

/** `binaryType` lives in two bits of `#flags`, as its index in this list. */
const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
const BINARY_TYPE_SHIFT = 3;
const BINARY_TYPE_MASK = 3 << BINARY_TYPE_SHIFT;

/**
 * The prototype of every connection's `_events`. EventEmitter makes `_events` a null-prototype
 * object literal, which V8 keeps in dictionary mode (about 184 bytes); an object created from an
 * empty null-prototype object is a fast object sharing one hidden class across connections
 * (about 56 bytes), and still has no inherited names for an event to collide with.
 */
const EVENTS_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

/** The owning WebSocket is kept on its socket under this key, for the shared listeners. */
const kOwner = Symbol('parley.owner');
type OwnedSocket = Duplex & { [kOwner]: WebSocket };

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

/**
 * A WebSocket connection.
 *
 * On the client, `new WebSocket(url, protocols?, options?)` connects. On the server, instances
 * come from {@link WebSocketServer}'s `connection` event.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- adds typed event overloads only
export class WebSocket extends EventEmitter implements HandshakeTarget {
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

  /** The protocol's state of the connection (src/protocol/connection.ts). */
  #state: number = INITIAL_STATE;
  /** The Node-side yes/no state (see `Flag`) and the binary type. */
  #flags = 0;
  #socket: Duplex | undefined;
  /** The receive side, made when the first bytes arrive: a connection that never receives has none. */
  #inbound: Inbound | undefined;
  /** The send side, made on the first send: a connection that never sends has none. */
  #sender: Sender | undefined;
  #settings: ConnectionSettings;
  /** What the opening handshake set; none on a server connection without a subprotocol or extension. */
  #handshake: Handshake | undefined;
  /** The close handshake's state, from the first close frame or close(). */
  #closing: CloseRecord | undefined;
  /** Heartbeat tick time (performance.now) at which bytes were last seen to have arrived. */
  #lastReceived = 0;
  #pingedAt = 0;
  /** permessage-deflate's codec, once the socket is attached. */
  #deflate: PerMessageDeflate | undefined;
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
    else {
      const list: readonly unknown[] = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
      connectClient(this, address, list, opts);
    }
  }

  #handshakeState(): Handshake {
    return (this.#handshake ??= { url: '', protocol: '', extensions: '', request: undefined, redirects: 0, deflateSetup: undefined });
  }

  /** Whether a bit of `#flags` is set. */
  #is(flag: number): boolean {
    return (this.#flags & flag) !== 0;
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
    return readyStateOf(this.#state) as ReadyState;
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
    return (socket === undefined ? 0 : socket.writableLength) + (this.#sender?.bufferedBytes ?? 0);
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

  // ---- sending (sender.ts) ---------------------------------------------------------------

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
    if (readyStateOf(this.#state) === CONNECTING) {
      throw new InvalidStateError('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    return this[kSendSide]().message(typeof data === 'number' ? String(data) : data, options, cb);
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
    if (readyStateOf(this.#state) === CONNECTING) {
      throw new InvalidStateError('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    this[kSendSide]().controlFrame(opcode, data, mask, cb);
  }

  // ---- closing (RFC 6455 §7) ----------------------------------------------------------------

  /**
   * Starts the close handshake (RFC 6455 §7.1.2): sends a close frame and waits for the peer's,
   * cutting the connection off after `closeTimeout`.
   * @param code - a code that may be sent (1000–1003, 1007–1014, 3000–4999)
   * @param reason - at most 123 bytes of UTF-8
   * @throws TypeError for an invalid code; SyntaxError for a reason over 123 bytes (as `ws`)
   */
  close(code?: number, reason?: string | Buffer): void {
    if (readyStateOf(this.#state) === CLOSED) return;
    if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code) || !isValidCloseCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    if (reason !== undefined && Buffer.byteLength(reason) > MAX_CLOSE_REASON) {
      throw new SyntaxError('The message must not be greater than 123 bytes');
    }
    // As `ws`: a reason without a code is ignored (a close frame carries a reason only after a
    // code, RFC 6455 §5.5.1).
    this[kApply](closeCalled(this.#state), new InvalidStateError('WebSocket was closed before the connection was established'), code, code === undefined ? undefined : reason);
  }

  /** Destroys the connection at once, without a close handshake. */
  terminate(): void {
    const ready = readyStateOf(this.#state);
    // A handshake that failed (its 'error' listener may call this) has no socket to destroy.
    if (ready !== CONNECTING && this.#socket === undefined) return;
    // Frames sent earlier in this turn are handed to the socket first, as they would have been
    // without the end-of-turn batching (and as `ws` writes them at once): `send(); terminate()`
    // delivers what the kernel takes at once; what is still queued is discarded with the socket.
    if (ready === OPEN || ready === CLOSING) this.#sender?.flush();
    this[kApply](terminateCalled(this.#state), new InvalidStateError('WebSocket was closed before the connection was established'));
  }

  /** Stops reading from the peer (TCP backpressure) until {@link WebSocket.resume}. */
  pause(): void {
    const ready = readyStateOf(this.#state);
    if (ready === CONNECTING || ready === CLOSED || this.#socket === undefined) return;
    this.#flags |= Flag.PAUSED;
    this.#socket.pause();
  }

  /** Reads from the peer again after {@link WebSocket.pause}. */
  resume(): void {
    const ready = readyStateOf(this.#state);
    if (ready === CONNECTING || ready === CLOSED || this.#socket === undefined) return;
    this.#flags &= ~Flag.PAUSED;
    if (this.#inbound?.receiver.paused !== true) this.#socket.resume();
  }

  /** @internal The protocol's state (src/protocol/connection.ts), for the parts in other files. */
  get [kState](): number {
    return this.#state;
  }

  set [kState](state: number) {
    this.#state = state;
  }

  /**
   * @internal Takes a transition's next state and carries out its actions (close.ts).
   * REFUSE and WAIT are the caller's to handle.
   */
  [kApply](s: Step, error?: unknown, closeCode?: number, closeReason?: string | Buffer): void {
    applyStep(this, s, error, closeCode, closeReason);
  }

  /** @internal The peer's close frame arrived (RFC 6455 §7.1.3): recorded, and answered (§5.5.1). */
  [kPeerClose](code: number, reason: Uint8Array): void {
    peerClosed(this, code, reason);
  }

  /** @internal The socket, once attached. */
  get [kSocket](): Duplex | undefined {
    return this.#socket;
  }

  /** @internal The send side, if made yet. */
  get [kSender](): Sender | undefined {
    return this.#sender;
  }

  /** @internal The send side, made on first use. */
  [kSendSide](): Sender {
    return (this.#sender ??= new Sender(this, this.#socket, this.#settings, this.#deflate, this.#is(Flag.IS_SERVER)));
  }

  /** @internal The close handshake's record (made when `create`). */
  [kCloseRecord](create: boolean): CloseRecord | undefined {
    return create ? (this.#closing ??= new CloseRecord()) : this.#closing;
  }

  /** @internal Ms the peer has to finish the close handshake. */
  get [kCloseTimeout](): number {
    return this.#settings.closeTimeout;
  }

  /** @internal Client side: the handshake request in flight, handed over (and forgotten) to be aborted. */
  [kTakeRequest](): import('node:http').ClientRequest | undefined {
    const handshake = this.#handshake;
    const request = handshake?.request;
    if (handshake !== undefined) handshake.request = undefined;
    return request;
  }

  /** @internal The close observer, handed over (and forgotten) to be told of the close. */
  [kTakeObserver](): CloseObserver | undefined {
    const observer = this.#closeObserver;
    this.#closeObserver = undefined;
    return observer;
  }

  /** @internal The client handshake failed or was aborted: report and close (as `ws`). */
  [kAbortHandshake](error: Error): void {
    this[kApply](handshakeFailed(this.#state), error);
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
    this.#state = stateOf(handshakeDone(this.#state));
    this.emit('open');
  }

  static #socketOnData(this: OwnedSocket, chunk: Buffer): void {
    const ws = this[kOwner];
    ws.#flags |= Flag.RECEIVED;
    (ws.#inbound ??= ws.#makeInbound()).push(chunk);
    // What the handlers of this chunk's messages sent back on this connection (an echo, a reply,
    // pongs) leaves now, in one write, rather than at the end of the turn: a reply does not wait
    // for the rest of the turn's I/O, and sends to other connections still batch per turn.
    if (ws.#sender?.batched === true) ws.#sender.flush();
  }

  static #socketOnEnd(this: OwnedSocket): void {
    this[kOwner][kTransportEnded]();
  }

  static #socketOnClose(this: OwnedSocket): void {
    this[kOwner][kTransportClosed]();
  }

  static #socketOnError(this: OwnedSocket): void {
    const ws = this[kOwner];
    ws[kApply](transportErrored(ws.#state));
  }

  static #socketOnDrain(this: OwnedSocket): void {
    this[kOwner].#sender?.emitDrain();
  }

  #makeInbound(): Inbound {
    return new Inbound(this, this.#socket!, this.#settings, this.#deflate, this.#is(Flag.IS_SERVER));
  }

  /** @internal The peer ended its side (or the end deferred behind an inflating message runs now). */
  [kTransportEnded](): void {
    if (this.#inbound?.deferEnd() === true) return;
    this[kApply](transportEnded(this.#state));
  }

  /** @internal The socket closed (or the close deferred behind an inflating message runs now). */
  [kTransportClosed](): void {
    if (this.#inbound?.deferClose() === true) return;
    this.#sender?.socketClosed();
    this.#deflate?.close(); // zlib memory goes back now, not at garbage collection
    // No bytes come after the socket's 'close': a connection that never received any has no parser to stop.
    this.#inbound?.receiver.destroy();
    this[kApply](transportClosed(this.#state));
  }

  /** EventEmitter's captureRejections hook: an async listener rejected. */
  [Symbol.for('nodejs.rejection')](error: unknown): void {
    const ready = readyStateOf(this.#state);
    if (ready !== OPEN && ready !== CLOSING) this[kApply](errorOccurred(this.#state), error);
    else if (this.#socket !== undefined) (this.#inbound ??= this.#makeInbound()).handlerFailed(error);
    else this[kApply](handlerFailed(this.#state), error, CloseCode.InternalError);
  }

  /**
   * @internal One heartbeat tick. Pings a peer idle for `interval` ms; terminates one that sent
   * nothing for `timeout` ms after that ping.
   * @returns true when the connection was terminated
   */
  [kHeartbeat](now: number, interval: number, timeout: number): boolean {
    if (readyStateOf(this.#state) !== OPEN) return false;
    if (this.#is(Flag.RECEIVED)) {
      this.#flags &= ~Flag.RECEIVED;
      this.#lastReceived = now;
    }
    if (this.#pingedAt > this.#lastReceived) {
      if (now - this.#pingedAt >= timeout) {
        this[kApply](errorOccurred(this.#state), new ParleyError(ErrorCode.HEARTBEAT_TIMEOUT, `no answer to a ping within ${timeout} ms`, CloseCode.Abnormal));
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

  // ---- WHATWG EventTarget (event-target.ts) -----------------------------------------------

  /**
   * Adds a DOM-style listener for 'open', 'message', 'close' or 'error'. Listeners receive
   * event objects (`MessageEvent.data` is a string for text).
   */
  addEventListener<K extends keyof wsTypes.WebSocketEventMap<WebSocket>>(type: K, listener: wsTypes.WebSocketEventListener<WebSocket, K> | null, options?: EventListenerOptions | boolean): void;
  addEventListener(type: string, listener: EventListenerLike | null, options?: EventListenerOptions | boolean): void;
  addEventListener(type: string, listener: EventListenerLike | null, options?: EventListenerOptions | boolean): void {
    addEventListener(this, type, listener, typeof options === 'object' && options.once === true);
  }

  /** Removes a listener added with {@link WebSocket.addEventListener}. */
  removeEventListener<K extends keyof wsTypes.WebSocketEventMap<WebSocket>>(type: K, listener: wsTypes.WebSocketEventListener<WebSocket, K> | null): void;
  removeEventListener(type: string, listener: EventListenerLike | null): void;
  removeEventListener(type: string, listener: EventListenerLike | null): void {
    removeEventListener(this, type, listener);
  }

  /** Dispatches a Parley event object to its listeners; returns true (not cancelable). */
  dispatchEvent(event: WsEvent): boolean {
    event.target = this;
    this.emit(event.type, event);
    return true;
  }

  /** WHATWG `onopen` attribute. */
  get onopen(): ((event: wsTypes.Event<WebSocket>) => void) | null { return getAttribute(this, 'open') as ((event: wsTypes.Event<WebSocket>) => void) | null; }
  set onopen(h: ((event: wsTypes.Event<WebSocket>) => void) | null) { setAttribute(this, 'open', h); }
  /** WHATWG `onmessage` attribute. */
  get onmessage(): ((event: wsTypes.MessageEvent<WebSocket>) => void) | null { return getAttribute(this, 'message') as ((event: wsTypes.MessageEvent<WebSocket>) => void) | null; }
  set onmessage(h: ((event: wsTypes.MessageEvent<WebSocket>) => void) | null) { setAttribute(this, 'message', h); }
  /** WHATWG `onclose` attribute. */
  get onclose(): ((event: wsTypes.CloseEvent<WebSocket>) => void) | null { return getAttribute(this, 'close') as ((event: wsTypes.CloseEvent<WebSocket>) => void) | null; }
  set onclose(h: ((event: wsTypes.CloseEvent<WebSocket>) => void) | null) { setAttribute(this, 'close', h); }
  /** WHATWG `onerror` attribute. */
  get onerror(): ((event: wsTypes.ErrorEvent<WebSocket>) => void) | null { return getAttribute(this, 'error') as ((event: wsTypes.ErrorEvent<WebSocket>) => void) | null; }
  set onerror(h: ((event: wsTypes.ErrorEvent<WebSocket>) => void) | null) { setAttribute(this, 'error', h); }
}

defineWebIdlAttributes(WebSocket);

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

