/**
 * The connection's state machine, sans-I/O: the close handshake (RFC 6455 §7), failing the
 * connection (§7.1.7), sends refused after close and the state of a message sent in fragments
 * (§5.4). Each transition takes the current state and an event (a call of the application, a frame
 * or an end of the transport) and returns a {@link Step}: the next state and the actions that the
 * I/O layer carries out (write a close frame, end or destroy the transport, start or clear the
 * close timer, emit 'close' or 'error'). There is no clock here: the close timeout is an action
 * (start the timer) and an event (the timer fired), so every transition is a pure function.
 *
 * The state is one small integer and a step is another: a transition allocates nothing, which
 * matters because every message sent passes through {@link dataFrameSent}, and each connection
 * keeps only one number.
 * @packageDocumentation
 */
import { CloseCode } from './constants.js';

/** The ready state, in the low two bits of a connection state (the WHATWG numbering). */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;

/** Bits of a connection state above the ready state. */
export const ConnectionFlag = {
  /** Our close frame has been handed to the transport (§7.1.2). */
  CLOSE_SENT: 1 << 2,
  /** The peer's close frame has been received (§7.1.3). */
  CLOSE_RECEIVED: 1 << 3,
  /** Reading failed (a protocol error or a failing handler): no close frame will be read. */
  RECEIVE_FAILED: 1 << 4,
  /** An error has been reported: a connection reports at most one. */
  ERROR_REPORTED: 1 << 5,
  /** The application has started a message in fragments and not yet sent its last one. */
  MESSAGE_OPEN: 1 << 6,
  /** A data frame with FIN clear was written: the next data frame is a continuation (§5.4). */
  FRAGMENT_OPEN: 1 << 7,
} as const;

const READY_MASK = 3;
const STATE_BITS = 8;
const STATE_MASK = (1 << STATE_BITS) - 1;

/** Actions of a {@link Step}, as bits (read them with {@link actionsOf}). */
export const Action = {
  /**
   * Write a close frame. Its payload is the caller's: the code and reason passed to close(), the
   * peer's code echoed (§5.5.1), or the code the connection fails with (§7.1.7).
   */
  SEND_CLOSE: 1 << 0,
  /** Start the close timer: the peer has that long to finish the close handshake. */
  START_TIMER: 1 << 1,
  /** End our side of the transport after what is queued (§7.1.1: both close frames passed). */
  END_TRANSPORT: 1 << 2,
  /** Destroy the transport at once, discarding what is queued. */
  DESTROY: 1 << 3,
  /** Clear the close timer. */
  CLEAR_TIMER: 1 << 4,
  /** Emit 'close' with {@link closeEventCode} and {@link wasClean}. */
  EMIT_CLOSE: 1 << 5,
  /** Emit 'error' (once per connection). */
  EMIT_ERROR: 1 << 6,
  /** Refuse the call: the connection is not open (report it as a send after close). */
  REFUSE: 1 << 7,
  /** Abort the opening handshake; 'error' ({@link errorOccurred}) and 'close' ({@link handshakeAbortReported}) follow. */
  ABORT_HANDSHAKE: 1 << 8,
  /** A whole message may not go yet: a message in fragments is open (§5.4); it waits for its end. */
  WAIT: 1 << 9,
  /** The messages that waited for a message in fragments to end may go now (or fail, when closed). */
  RELEASE_WAITING: 1 << 10,
} as const;

/**
 * A transition's result: the next state in the low bits and the {@link Action} bits above it, in
 * one integer so that a transition allocates nothing. Read it with {@link stateOf} and {@link actionsOf}.
 */
export type Step = number;

/** The initial state of a connection: CONNECTING, nothing sent or received. */
export const INITIAL_STATE = ReadyState.CONNECTING;

function step(state: number, actions: number): Step {
  return state | (actions << STATE_BITS);
}

/** The next state of a {@link Step}. */
export function stateOf(s: Step): number {
  return s & STATE_MASK;
}

/** The {@link Action} bits of a {@link Step}. */
export function actionsOf(s: Step): number {
  return s >>> STATE_BITS;
}

/** The ready state (0–3) of a connection state. */
export function readyStateOf(state: number): number {
  return state & READY_MASK;
}

/** Whether every bit of `flag` is set in `state`. */
export function hasFlag(state: number, flag: number): boolean {
  return (state & flag) === flag;
}

function withReady(state: number, ready: number): number {
  return (state & ~READY_MASK) | ready;
}

/** The opening handshake succeeded: CONNECTING → OPEN. */
export function handshakeDone(state: number): Step {
  return step(withReady(state, ReadyState.OPEN), 0);
}

/**
 * The opening handshake failed or was aborted (close() or terminate() while CONNECTING):
 * CONNECTING → CLOSING. Once, later events of the handshake find the state moved on.
 */
export function handshakeFailed(state: number): Step {
  if (readyStateOf(state) !== ReadyState.CONNECTING) return step(state, 0);
  return step(withReady(state, ReadyState.CLOSING), Action.ABORT_HANDSHAKE);
}

/**
 * The aborted handshake has been reported (as `ws`: 'error' while CLOSING, see
 * {@link errorOccurred}, one tick after the abort): CLOSED, and 'close' with 1006.
 */
export function handshakeAbortReported(state: number): Step {
  return step(withReady(state, ReadyState.CLOSED), Action.EMIT_CLOSE);
}

/** Starts the closing handshake from OPEN: CLOSING, a close frame out, the timer running. */
function startClosing(state: number, more: number): Step {
  return step(withReady(state, ReadyState.CLOSING), Action.SEND_CLOSE | Action.START_TIMER | more);
}

/** Whether the closing handshake is over on our side (§7.1.1): our close frame out, and theirs in or never coming. */
function handshakeOver(state: number): boolean {
  return hasFlag(state, ConnectionFlag.CLOSE_SENT) && (state & (ConnectionFlag.CLOSE_RECEIVED | ConnectionFlag.RECEIVE_FAILED)) !== 0;
}

/**
 * The application calls close() (§7.1.2). OPEN: send a close frame and wait for the peer's.
 * CLOSING: nothing more to send; the transport ends if both close frames have passed.
 * CONNECTING: the handshake is aborted. CLOSED: nothing.
 */
export function closeCalled(state: number): Step {
  switch (readyStateOf(state)) {
    case ReadyState.OPEN: return startClosing(state, 0);
    case ReadyState.CLOSING: return step(state, handshakeOver(state) ? Action.END_TRANSPORT : 0);
    case ReadyState.CONNECTING: return handshakeFailed(state);
    default: return step(state, 0);
  }
}

/** Our close frame has been written to the transport; if the peer's is in, the TCP connection ends (§7.1.1). */
export function closeFrameWritten(state: number): Step {
  const next = state | ConnectionFlag.CLOSE_SENT;
  return step(next, handshakeOver(next) ? Action.END_TRANSPORT : 0);
}

/**
 * The peer's close frame arrived (§7.1.3, §5.5.1). OPEN: answer with a close frame (echoing the
 * peer's code, see {@link closeReplyCode}) and wait for it to be written. CLOSING: the handshake
 * is complete once our close frame is out.
 */
export function closeFrameReceived(state: number): Step {
  const next = state | ConnectionFlag.CLOSE_RECEIVED;
  if (readyStateOf(next) === ReadyState.OPEN) return startClosing(next, 0);
  return step(next, handshakeOver(next) ? Action.END_TRANSPORT : 0);
}

/** The code to echo in the close frame that answers a peer's close with `peerCode`: none for 1005 (§5.5.1). */
export function closeReplyCode(peerCode: number): number | undefined {
  return peerCode === CloseCode.NoStatus ? undefined : peerCode;
}

/** Reports an error unless one was: a connection emits at most one 'error'. */
function reportError(state: number, actions: number): Step {
  if (hasFlag(state, ConnectionFlag.ERROR_REPORTED)) return step(state, actions);
  return step(state | ConnectionFlag.ERROR_REPORTED, actions | Action.EMIT_ERROR);
}

/** An error to report that does not by itself change the connection (the caller decides what follows). */
export function errorOccurred(state: number): Step {
  return reportError(state, 0);
}

/**
 * The received bytes broke the protocol (§7.1.7 "Fail the WebSocket Connection"): no more is
 * read; OPEN sends a close frame with the error's code (1002, 1007, 1009…) and waits for the
 * transport to end; CLOSING with our close frame out ends the transport now. The error is reported.
 */
export function receiveFailed(state: number): Step {
  const next = state | ConnectionFlag.RECEIVE_FAILED;
  const ready = readyStateOf(next);
  if (ready === ReadyState.OPEN) return reportError(withReady(next, ReadyState.CLOSING), Action.SEND_CLOSE | Action.START_TIMER);
  return reportError(next, ready === ReadyState.CLOSING && hasFlag(next, ConnectionFlag.CLOSE_SENT) ? Action.END_TRANSPORT : 0);
}

/**
 * The application's handler of a received message threw: no more is read and an OPEN connection
 * closes with 1011; unlike a protocol error the transport is left to the close handshake.
 */
export function handlerFailed(state: number): Step {
  const next = state | ConnectionFlag.RECEIVE_FAILED;
  if (readyStateOf(next) === ReadyState.OPEN) return reportError(withReady(next, ReadyState.CLOSING), Action.SEND_CLOSE | Action.START_TIMER);
  return reportError(next, 0);
}

/**
 * A message could not be sent (as `ws`: a Blob that cannot be read): the connection fails
 * without a close frame: CLOSING, the transport ended after what is queued, the error reported.
 */
export function sendFailed(state: number): Step {
  const ready = readyStateOf(state);
  if (ready === ReadyState.CLOSED) return step(state, 0);
  if (ready === ReadyState.OPEN) return reportError(withReady(state, ReadyState.CLOSING), Action.START_TIMER | Action.END_TRANSPORT);
  return reportError(state, Action.END_TRANSPORT);
}

/** The peer ended its side of the transport: we end ours (CLOSING unless CLOSED). */
export function transportEnded(state: number): Step {
  const next = readyStateOf(state) === ReadyState.CLOSED ? state : withReady(state, ReadyState.CLOSING);
  return step(next, Action.END_TRANSPORT);
}

/** The transport reported an error: it is destroyed (its 'close' follows). */
export function transportErrored(state: number): Step {
  const next = readyStateOf(state) === ReadyState.CLOSED ? state : withReady(state, ReadyState.CLOSING);
  return step(next, Action.DESTROY);
}

/** The close timer fired: the peer did not finish the close handshake in time; the transport is destroyed. */
export function closeTimerFired(state: number): Step {
  return step(state, Action.DESTROY);
}

/** The application calls terminate(): the transport is destroyed without a close handshake. */
export function terminateCalled(state: number): Step {
  switch (readyStateOf(state)) {
    case ReadyState.CONNECTING: return handshakeFailed(state);
    case ReadyState.CLOSED: return step(state, 0);
    default: return step(withReady(state, ReadyState.CLOSING), Action.DESTROY);
  }
}

/**
 * The transport closed: CLOSED, the timer cleared, 'close' emitted (with {@link closeEventCode}).
 * A message in fragments that never ended is over; what waited for it is released (to fail).
 */
export function transportClosed(state: number): Step {
  const next = withReady(state & ~ConnectionFlag.MESSAGE_OPEN, ReadyState.CLOSED);
  return step(next, Action.CLEAR_TIMER | Action.EMIT_CLOSE | Action.RELEASE_WAITING);
}

/**
 * The application sends data (a message, or a fragment with `fin` false). Refused unless OPEN
 * (data after close is not sent, §7.1.4 "no further data frames"). Tracks the message in
 * fragments: its last fragment releases the whole messages that waited for it.
 */
export function sendCalled(state: number, fin: boolean): Step {
  if (readyStateOf(state) !== ReadyState.OPEN) return step(state, Action.REFUSE);
  if (!fin) return step(state | ConnectionFlag.MESSAGE_OPEN, 0);
  if (hasFlag(state, ConnectionFlag.MESSAGE_OPEN)) return step(state & ~ConnectionFlag.MESSAGE_OPEN, Action.RELEASE_WAITING);
  return step(state, 0);
}

/**
 * The application sends a whole message that cannot be split (a prepared frame). Refused unless
 * OPEN; while a message in fragments is open it waits (a data frame may not appear inside
 * another message, §5.4).
 */
export function wholeMessageCalled(state: number): Step {
  if (readyStateOf(state) !== ReadyState.OPEN) return step(state, Action.REFUSE);
  return step(state, hasFlag(state, ConnectionFlag.MESSAGE_OPEN) ? Action.WAIT : 0);
}

/** The application sends a ping or pong: refused unless OPEN. Control frames may go between fragments (§5.4). */
export function controlCalled(state: number): Step {
  return step(state, readyStateOf(state) === ReadyState.OPEN ? 0 : Action.REFUSE);
}

/** Whether the next data frame written continues a message (opcode 0, §5.4) rather than starting one. */
export function continuesMessage(state: number): boolean {
  return hasFlag(state, ConnectionFlag.FRAGMENT_OPEN);
}

/** A data frame with FIN `fin` was written: a clear FIN leaves the message open for continuations (§5.4). */
export function dataFrameSent(state: number, fin: boolean): Step {
  return step(fin ? state & ~ConnectionFlag.FRAGMENT_OPEN : state | ConnectionFlag.FRAGMENT_OPEN, 0);
}

/**
 * The code 'close' reports (§7.1.5): the peer's close code (1005 when its frame had none), or 1006
 * when no close frame was received (§7.1.5, §7.4.1: the connection closed abnormally).
 */
export function closeEventCode(state: number, peerCode: number): number {
  return hasFlag(state, ConnectionFlag.CLOSE_RECEIVED) ? peerCode : CloseCode.Abnormal;
}

/** Whether the connection closed cleanly: both close frames passed (WHATWG `CloseEvent.wasClean`). */
export function wasClean(state: number): boolean {
  return hasFlag(state, ConnectionFlag.CLOSE_SENT | ConnectionFlag.CLOSE_RECEIVED);
}
