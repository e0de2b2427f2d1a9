/**
 * Symbols shared between the Node layer's modules and hidden from applications: the server and
 * the client handshake hand a finished socket to a `WebSocket` through these.
 * @packageDocumentation
 * @internal
 */

/** `ws[kAttach](socket, head, settings)`: the handshake is done, start framing on `socket`. */
export const kAttach = Symbol('parley.attach');
/** `ws[kAbortHandshake](error)`: the client handshake failed; report and close. */
export const kAbortHandshake = Symbol('parley.abortHandshake');
/** `ws[kHeartbeat](now, interval, timeout)`: one heartbeat tick; true when the peer is dead. */
export const kHeartbeat = Symbol('parley.heartbeat');
/** `ws[kHeartbeatStart](now)`: a heartbeat starts watching; silence is counted from `now`. */
export const kHeartbeatStart = Symbol('parley.heartbeatStart');
/**
 * `ws[kSetRequest](request, url, redirects)`: the client handshake made a request (the first, or
 * one following a redirect); `url` and `_req` report it, as in `ws`.
 */
export const kSetRequest = Symbol('parley.setRequest');
/** `ws[kSetProtocol](protocol, extensions)`: record what the handshake negotiated. */
export const kSetNegotiated = Symbol('parley.setNegotiated');
/**
 * `ws[kObserveClose](observer)`: the server learns of the connection's end through one call made
 * just before 'close' is emitted, instead of a `once('close')` listener per connection (a bound
 * wrapper, its state object and a closure: about 260 bytes on every idle connection).
 */
export const kObserveClose = Symbol('parley.observeClose');

/** What {@link kObserveClose} registers: called once, before the connection emits 'close'. */
export interface CloseObserver {
  /** `ws` has closed; its 'close' listeners run next. */
  connectionClosed(ws: object): void;
}

/**
 * `server[kAdoptConnection](ws)`: a subclass's last word on a new connection, before the
 * upgrade callback and 'connection' (the real-time server binds its session here). A method
 * rather than a wrapper around the callback, which cost a closure per upgrade.
 */
export const kAdoptConnection = Symbol('parley.adoptConnection');

/**
 * `ws[kApply](step, error?, closeCode?, closeReason?)`: takes a transition's next state and carries
 * out its actions (close.ts); `error` is what 'error' reports, `closeCode`/`closeReason` what a
 * close frame sent carries. A method, so that the send side reaches it without importing close.ts
 * (which imports the send side).
 */
export const kApply = Symbol('parley.apply');

// ---- the fields of a WebSocket ------------------------------------------------------------------
// Keys of the state behind `WebSocket`'s API (websocket.ts), which the files of its concerns
// (close.ts, sender.ts, receive.ts, transport.ts, heartbeat.ts, handshake-record.ts) read and
// write directly. Symbol keys, and undeclared on the class, so that its public type does not list
// them. Every field costs 8 bytes on every connection (memory per idle connection is a headline
// figure, docs/benchmarks.md): what only some connections need lives in records made on demand.

/** `ws[kState]`: the connection's state as the protocol's state machine keeps it (src/protocol/connection.ts). */
export const kState = Symbol('parley.state');
/** `ws[kFlags]`: the Node-side yes/no state (see {@link ConnectionFlag}) and the binary type. */
export const kFlags = Symbol('parley.flags');
/** `ws[kSocket]`: the socket, once attached. */
export const kSocket = Symbol('parley.socket');
/** `ws[kSettings]`: the connection's resolved settings (settings.ts), shared by a server's connections. */
export const kSettings = Symbol('parley.settings');
/** `ws[kInbound]`: the receive side (receive.ts), made when the first bytes arrive. */
export const kInbound = Symbol('parley.inbound');
/** `ws[kSender]`: the send side (sender.ts), made on the first send. */
export const kSender = Symbol('parley.sender');
/** `ws[kDeflate]`: permessage-deflate's codec (deflate-codec.ts), once the socket is attached. */
export const kDeflate = Symbol('parley.deflate');
/** `ws[kHandshake]`: what the opening handshake set (handshake-record.ts), when anything differs from the defaults. */
export const kHandshake = Symbol('parley.handshake');
/** `ws[kClosing]`: the close handshake's record (close.ts), from the first close frame or close(). */
export const kClosing = Symbol('parley.closing');
/** `ws[kCloseObserver]`: told of the close before the 'close' listeners (a server's client tracking, a heartbeat). */
export const kCloseObserver = Symbol('parley.closeObserver');
/** `ws[kLastReceived]`: heartbeat tick time (performance.now) at which bytes were last seen to have arrived. */
export const kLastReceived = Symbol('parley.lastReceived');
/** `ws[kPingedAt]`: heartbeat tick time of the last ping the heartbeat sent. */
export const kPingedAt = Symbol('parley.pingedAt');

/** Bits of `ws[kFlags]`: one field instead of one per boolean. */
export const ConnectionFlag = {
  IS_SERVER: 1 << 0,
  /** Reading paused by the application. */
  PAUSED: 1 << 1,
  /**
   * Bytes arrived since the last heartbeat tick, which then records the tick's time: a bit set
   * per chunk instead of a clock read and a boxed double on every connection.
   */
  RECEIVED: 1 << 2,
  /** `binaryType` lives in the two bits from here, as its index in websocket.ts's list. */
  BINARY_TYPE_SHIFT: 3,
} as const;

/**
 * What the opening handshakes (client-handshake.ts, client-http2.ts) need of the connection they
 * open: named here so that they do not import `WebSocket` back (websocket.ts imports them).
 */
export interface HandshakeTarget extends HeartbeatMember {
  readonly readyState: number;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
  [kSetRequest](request: import('node:http').ClientRequest, url: string, redirects: number): void;
  [kSetNegotiated](protocol: string, extensions: string, deflate?: import('./deflate-codec.js').DeflateSetup): void;
  [kAttach](socket: import('node:stream').Duplex, head: import('node:buffer').Buffer): void;
  [kAbortHandshake](error: Error): void;
  [kObserveClose](observer: CloseObserver): void;
}

/** What the heartbeat (heartbeat.ts) needs of a connection it watches. */
export interface HeartbeatMember {
  [kHeartbeat](now: number, interval: number, timeout: number): boolean;
  [kHeartbeatStart](now: number): void;
}
