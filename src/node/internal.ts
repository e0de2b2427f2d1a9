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
