/**
 * `WebSocket`: one connection, either side. The public API is that of `ws` 8 (events
 * `open`/`message`/`close`/`error`/`ping`/`pong`, `send`/`close`/`ping`/`pong`/`terminate`), and
 * it also implements the WHATWG interface (`addEventListener`, `onmessage`, `binaryType`
 * `'arraybuffer' | 'blob'`), so browser code runs on Node.
 *
 * One type, files by concern: the connection's state (the close handshake, failing the
 * connection, sends after close, a message sent in fragments) is the protocol's state machine
 * (src/protocol/connection.ts), which close.ts carries out; the send side is sender.ts, the
 * receive side receive.ts, the socket's wiring transport.ts, what the opening handshake set
 * handshake-record.ts, the heartbeat's tick heartbeat.ts, the WHATWG EventTarget glue
 * event-target.ts, and the opening handshake client-handshake.ts. They reach the connection's
 * state through symbol-keyed fields (internal.ts). This file holds the API.
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { InvalidStateError, Opcode } from '../protocol/index.js';
import { INITIAL_STATE, ReadyState as State, handshakeFailed, readyStateOf, type Step } from '../protocol/connection.js';
import type { Data } from './buffers.js';
import type { EventListenerLike, WsEvent } from './events.js';
import { addEventListener, defineWebIdlAttributes, getAttribute, removeEventListener, setAttribute } from './event-target.js';
import {
  ConnectionFlag as Flag, kAbortHandshake, kApply, kAttach, kCloseObserver, kClosing, kDeflate, kFlags, kHandshake, kHeartbeat, kHeartbeatStart,
  kInbound, kLastReceived, kObserveClose, kPingedAt, kSender, kSetNegotiated, kSetRequest, kSettings, kSocket, kState, type CloseObserver,
} from './internal.js';
import { applyStep, closeCalledWith, terminateNow } from './close.js';
import { DEFAULT_SETTINGS, resolveSettings, type ConnectionSettings } from './settings.js';
import { connectClient, type ClientOptionsOf } from './client-handshake.js';
import { setNegotiated, setRequest, type HandshakeHost } from './handshake-record.js';
import { heartbeatStart, heartbeatTick, type HeartbeatHost } from './heartbeat.js';
import { attach, type TransportHost } from './transport.js';
import { PreparedMessage } from './prepared-message.js';
import type { DeflateSetup } from './deflate-codec.js';
import { listenerRejected, pauseReading } from './receive.js';
import { sendSide, type SendCallback, type SendOptions } from './sender.js';
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

/** `binaryType` lives in two bits of the flags (internal.ts), as its index in this list. */
const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
const BINARY_TYPE_MASK = 3 << Flag.BINARY_TYPE_SHIFT;

/**
 * The prototype of every connection's `_events`. EventEmitter makes `_events` a null-prototype
 * object literal, which V8 keeps in dictionary mode (about 184 bytes); an object created from an
 * empty null-prototype object is a fast object sharing one hidden class across connections
 * (about 56 bytes), and still has no inherited names for an event to collide with.
 */
const EVENTS_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

/**
 * A connection as the files of its concerns see it: the API, and the fields behind it, whose keys
 * and meaning are in internal.ts. The fields are set in the constructor and not declared on the
 * class, so its public type (and the published declarations) do not list them.
 */
type Conn = WebSocket & TransportHost & HandshakeHost & HeartbeatHost;

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
    // The fields (internal.ts), always all of them and in this order, so that every connection
    // has one hidden class; assigned to `this` in the constructor, so that V8 counts them and
    // keeps them inside the object.
    (this as unknown as Conn)[kState] = INITIAL_STATE;
    (this as unknown as Conn)[kFlags] = address === null ? Flag.IS_SERVER : 0;
    (this as unknown as Conn)[kSocket] = undefined;
    (this as unknown as Conn)[kInbound] = undefined;
    (this as unknown as Conn)[kSender] = undefined;
    (this as unknown as Conn)[kSettings] = address === null ? DEFAULT_SETTINGS : resolveSettings(opts);
    (this as unknown as Conn)[kHandshake] = undefined;
    (this as unknown as Conn)[kClosing] = undefined;
    (this as unknown as Conn)[kLastReceived] = 0;
    (this as unknown as Conn)[kPingedAt] = 0;
    (this as unknown as Conn)[kDeflate] = undefined;
    (this as unknown as Conn)[kCloseObserver] = undefined;
    if (address !== null) {
      const list: readonly unknown[] = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
      connectClient(this, address, list, opts);
    }
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
    return readyStateOf((this as unknown as Conn)[kState]) as ReadyState;
  }

  /** The URL connected to (client), or '' on the server. */
  get url(): string {
    return (this as unknown as Conn)[kHandshake]?.url ?? '';
  }

  /** The subprotocol the server selected, or ''. */
  get protocol(): string {
    return (this as unknown as Conn)[kHandshake]?.protocol ?? '';
  }

  /** The negotiated extensions, as in the `Sec-WebSocket-Extensions` response header. */
  get extensions(): string {
    return (this as unknown as Conn)[kHandshake]?.extensions ?? '';
  }

  /** How binary messages are delivered: Buffer (default), ArrayBuffer, array of Buffers, or Blob. */
  get binaryType(): BinaryType {
    return BINARY_TYPES[((this as unknown as Conn)[kFlags] & BINARY_TYPE_MASK) >>> Flag.BINARY_TYPE_SHIFT]!;
  }

  set binaryType(type: BinaryType) {
    const ws = this as unknown as Conn;
    const index = BINARY_TYPES.indexOf(type);
    if (index !== -1) ws[kFlags] = (ws[kFlags] & ~BINARY_TYPE_MASK) | (index << Flag.BINARY_TYPE_SHIFT);
  }

  /** Bytes queued for sending and not yet handed to the operating system. */
  get bufferedAmount(): number {
    const ws = this as unknown as Conn;
    return (ws[kSocket]?.writableLength ?? 0) + (ws[kSender]?.bufferedBytes ?? 0);
  }

  /** Whether reading is paused by {@link WebSocket.pause}. */
  get isPaused(): boolean {
    return ((this as unknown as Conn)[kFlags] & Flag.PAUSED) !== 0;
  }

  // ---- what programs written for `ws` read of its internals --------------------------------
  // Read-only, not enumerable. `ws._socket` in particular is how `ws` code reaches the peer's
  // address (`ws._socket.remoteAddress`); the others are what `ws`'s own tests inspect.

  /** The underlying socket once the connection is open (`ws`'s `_socket`), else null. */
  get _socket(): Duplex | null {
    return (this as unknown as Conn)[kSocket] ?? null;
  }

  /** Client side: the handshake request in flight (`ws`'s `_req`), else null. */
  get _req(): import('node:http').ClientRequest | null {
    return (this as unknown as Conn)[kHandshake]?.request ?? null;
  }

  /** Client side: redirects followed (`ws`'s `_redirects`). */
  get _redirects(): number {
    return (this as unknown as Conn)[kHandshake]?.redirects ?? 0;
  }

  /** The close handshake's timer while one runs (`ws`'s `_closeTimer`), else null. */
  get _closeTimer(): NodeJS.Timeout | null {
    return (this as unknown as Conn)[kClosing]?.timer ?? null;
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
    const ws = this as unknown as Conn;
    if (readyStateOf(ws[kState]) === CONNECTING) throw new InvalidStateError('WebSocket is not open: readyState 0 (CONNECTING)');
    return (ws[kSender] ?? sendSide(ws)).message(typeof data === 'number' ? String(data) : data, options, cb);
  }

  /**
   * Runs `fn` with the socket corked, so every frame it sends leaves in one write.
   * @returns what `fn` returns
   */
  cork<T>(fn: () => T): T {
    const socket = (this as unknown as Conn)[kSocket];
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
    const ws = this as unknown as Conn;
    if (readyStateOf(ws[kState]) === CONNECTING) throw new InvalidStateError('WebSocket is not open: readyState 0 (CONNECTING)');
    (ws[kSender] ?? sendSide(ws)).controlFrame(opcode, data, mask, cb);
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
    closeCalledWith(this as unknown as Conn, code, reason);
  }

  /** Destroys the connection at once, without a close handshake. */
  terminate(): void {
    terminateNow(this as unknown as Conn);
  }

  /** Stops reading from the peer (TCP backpressure) until {@link WebSocket.resume}. */
  pause(): void {
    pauseReading(this as unknown as Conn, true);
  }

  /** Reads from the peer again after {@link WebSocket.pause}. */
  resume(): void {
    pauseReading(this as unknown as Conn, false);
  }

  /** EventEmitter's captureRejections hook: an async listener rejected. */
  [Symbol.for('nodejs.rejection')](error: unknown): void {
    listenerRejected(this as unknown as Conn, error);
  }

  // ---- entry points for the other parts of the Node layer (internal.ts) ---------------------

  /**
   * @internal Takes a transition's next state and carries out its actions (close.ts), for the
   * send side. REFUSE and WAIT are the caller's to handle.
   */
  [kApply](s: Step, error?: unknown, closeCode?: number, closeReason?: string | Buffer): void {
    applyStep(this as unknown as Conn, s, error, closeCode, closeReason);
  }

  /** @internal The client handshake failed or was aborted: report and close (as `ws`). */
  [kAbortHandshake](error: Error): void {
    const ws = this as unknown as Conn;
    applyStep(ws, handshakeFailed(ws[kState]), error);
  }

  /** @internal The client handshake made `request` to `url`, after `redirects` redirects. */
  [kSetRequest](request: import('node:http').ClientRequest, url: string, redirects: number): void {
    setRequest(this as unknown as Conn, request, url, redirects);
  }

  /** @internal Records what the handshake negotiated (and permessage-deflate's parameters, if agreed). */
  [kSetNegotiated](protocol: string, extensions: string, deflate?: DeflateSetup): void {
    setNegotiated(this as unknown as Conn, protocol, extensions, deflate);
  }

  /** @internal Registers the one observer told of the close before the 'close' listeners run. */
  [kObserveClose](observer: CloseObserver): void {
    (this as unknown as Conn)[kCloseObserver] = observer;
  }

  /** @internal Binds the upgraded socket (transport.ts): from here frames flow. */
  [kAttach](socket: Duplex, head: Buffer, settings?: ConnectionSettings): void {
    attach(this as unknown as Conn, socket, head, settings);
  }

  /** @internal One heartbeat tick (heartbeat.ts); true when the connection was terminated. */
  [kHeartbeat](now: number, interval: number, timeout: number): boolean {
    return heartbeatTick(this as unknown as Conn, now, interval, timeout);
  }

  /** @internal The heartbeat starts watching: silence is counted from `now`. */
  [kHeartbeatStart](now: number): void {
    heartbeatStart(this as unknown as Conn, now);
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

