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
 * `ws[kState]`: the connection's state as the protocol's state machine keeps it
 * (src/protocol/connection.ts), read and written by the parts of the connection in other files
 * (the sender, the receive glue).
 */
export const kState = Symbol('parley.state');
/**
 * `ws[kApply](step, error?, closeCode?, closeReason?)`: takes a transition's next state and carries
 * out its actions; `error` is what 'error' reports, `closeCode`/`closeReason` what a close frame sent carries.
 */
export const kApply = Symbol('parley.apply');
/** `ws[kPeerClose](code, reason)`: the peer's close frame arrived (RFC 6455 §7.1.3). */
export const kPeerClose = Symbol('parley.peerClose');

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
/** `ws[kTransportEnded]()`: the socket's end, deferred while a received message inflated, runs now. */
export const kTransportEnded = Symbol('parley.transportEnded');
/** `ws[kTransportClosed]()`: the socket's close, deferred while a received message inflated, runs now. */
export const kTransportClosed = Symbol('parley.transportClosed');
/** `ws[kSocket]`: the socket, once attached (for close.ts). */
export const kSocket = Symbol('parley.socket');
/** `ws[kSender]`: the send side, if made yet (sender.ts). */
export const kSender = Symbol('parley.sender');
/** `ws[kSendSide]()`: the send side, made on first use. */
export const kSendSide = Symbol('parley.sendSide');
/** `ws[kCloseRecord](create)`: the close handshake's record (close.ts), made when `create`. */
export const kCloseRecord = Symbol('parley.closeRecord');
/** `ws[kCloseTimeout]`: ms the peer has to finish the close handshake. */
export const kCloseTimeout = Symbol('parley.closeTimeout');
/** `ws[kTakeRequest]()`: client side, the handshake request in flight, handed over to be aborted. */
export const kTakeRequest = Symbol('parley.takeRequest');
/** `ws[kTakeObserver]()`: the close observer, handed over to be told of the close. */
export const kTakeObserver = Symbol('parley.takeObserver');
