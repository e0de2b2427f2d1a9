/**
 * The closing of a `WebSocket` (websocket.ts): carrying out the actions of the protocol's state
 * machine (src/protocol/connection.ts) on the socket: our close frame (RFC 6455 §5.5.1), the close
 * timer, ending or destroying the TCP connection (§7.1.1), aborting the opening handshake, and
 * the 'error' and 'close' events (§7.1.5: the code reported); and what the end and the close of
 * the socket do. It reads and writes the connection's fields (internal.ts) directly.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { CloseCode, InvalidStateError, MAX_CLOSE_REASON, encodeClosePayload, isValidCloseCode } from '../protocol/index.js';
import {
  Action, ReadyState, actionsOf, closeCalled, closeEventCode, closeFrameReceived, closeFrameWritten, closeReplyCode, closeTimerFired,
  errorOccurred, handshakeAbortReported, readyStateOf, stateOf, terminateCalled, transportClosed, transportEnded, type Step,
} from '../protocol/connection.js';
import { asBuffer } from './buffers.js';
import { kCloseObserver, kClosing, kDeflate, kInbound, kSender, kSettings, kSocket, kState, type CloseObserver } from './internal.js';
import { takeRequest, type HandshakeHost } from './handshake-record.js';
import { sendSide, type SendHost } from './sender.js';

const EMPTY = Buffer.alloc(0);
/** What 'error' reports when close() or terminate() ends a connection still CONNECTING (`ws`'s words). */
const CLOSED_CONNECTING = 'WebSocket was closed before the connection was established';

/** The close handshake's record, made when it starts (a connection that never closes has none). */
export class CloseRecord {
  /** Code of the peer's close frame (1006 until one arrives). */
  code: number = CloseCode.Abnormal;
  /** Reason of the peer's close frame (a copy). */
  reason: Buffer = EMPTY;
  /** Cuts the connection off when the close handshake takes longer than `closeTimeout`. */
  timer: NodeJS.Timeout | undefined = undefined;
}

/** What closing needs of its connection: its fields (internal.ts) and its events. */
export interface CloseHost extends SendHost, HandshakeHost {
  [kClosing]: CloseRecord | undefined;
  [kCloseObserver]: CloseObserver | undefined;
  readonly [kInbound]: { readonly receiver: { destroy(): void } } | undefined;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
}

/**
 * `WebSocket.close(code, reason)`: starts the close handshake (RFC 6455 §7.1.2).
 * @throws TypeError for an invalid code; SyntaxError for a reason over 123 bytes (as `ws`)
 */
export function closeCalledWith(ws: CloseHost, code: number | undefined, reason: string | Buffer | undefined): void {
  if (readyStateOf(ws[kState]) === ReadyState.CLOSED) return;
  if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code) || !isValidCloseCode(code))) {
    throw new TypeError('First argument must be a valid error code number');
  }
  if (reason !== undefined && Buffer.byteLength(reason) > MAX_CLOSE_REASON) {
    throw new SyntaxError('The message must not be greater than 123 bytes');
  }
  // As `ws`: a reason without a code is ignored (a close frame carries a reason only after a
  // code, RFC 6455 §5.5.1).
  applyStep(ws, closeCalled(ws[kState]), new InvalidStateError(CLOSED_CONNECTING), code, code === undefined ? undefined : reason);
}

/** `WebSocket.terminate()`: destroys the connection at once, without a close handshake. */
export function terminateNow(ws: CloseHost): void {
  const ready = readyStateOf(ws[kState]);
  // A handshake that failed (its 'error' listener may call this) has no socket to destroy.
  if (ready !== ReadyState.CONNECTING && ws[kSocket] === undefined) return;
  // Frames sent earlier in this turn are handed to the socket first, as they would have been
  // without the end-of-turn batching (and as `ws` writes them at once): `send(); terminate()`
  // delivers what the kernel takes at once; what is still queued is discarded with the socket.
  if (ready === ReadyState.OPEN || ready === ReadyState.CLOSING) ws[kSender]?.flush();
  applyStep(ws, terminateCalled(ws[kState]), new InvalidStateError(CLOSED_CONNECTING));
}

/**
 * Takes a transition's next state and carries out its actions, in this order: the close frame
 * (`closeCode`, `closeReason`), the timer, the transport, the handshake, 'error' (`error`),
 * 'close'. REFUSE and WAIT are the caller's to handle.
 */
export function applyStep(ws: CloseHost, s: Step, error?: unknown, closeCode?: number, closeReason?: string | Buffer): void {
  ws[kState] = stateOf(s);
  const actions = actionsOf(s);
  if (actions === 0) return;
  if ((actions & Action.SEND_CLOSE) !== 0) sendClose(ws, closeCode, closeReason);
  if ((actions & Action.START_TIMER) !== 0) startCloseTimer(ws);
  if ((actions & Action.END_TRANSPORT) !== 0) endSocket(ws);
  if ((actions & Action.DESTROY) !== 0) ws[kSocket]?.destroy();
  if ((actions & Action.ABORT_HANDSHAKE) !== 0) abortHandshake(ws, error as Error);
  if ((actions & Action.CLEAR_TIMER) !== 0) {
    const closing = ws[kClosing];
    if (closing?.timer !== undefined) {
      clearTimeout(closing.timer);
      closing.timer = undefined;
    }
  }
  if ((actions & Action.RELEASE_WAITING) !== 0) ws[kSender]?.releaseWaiting();
  // A peer can trigger errors at will, so with no listener they are not rethrown: nothing a
  // peer sends may bring the process down (a deliberate difference from `ws`).
  if ((actions & Action.EMIT_ERROR) !== 0 && ws.listenerCount('error') > 0) ws.emit('error', error);
  if ((actions & Action.EMIT_CLOSE) !== 0) {
    const closing = ws[kClosing];
    // Server side: the observer learns of the close before the listeners (client tracking, heartbeat).
    const observer = ws[kCloseObserver];
    ws[kCloseObserver] = undefined;
    observer?.connectionClosed(ws);
    ws.emit('close', closeEventCode(ws[kState], closing?.code ?? CloseCode.Abnormal), closing?.reason ?? EMPTY);
  }
}

/** The peer's close frame arrived (RFC 6455 §7.1.3): recorded, and answered echoing its code (§5.5.1). */
export function peerClosed(ws: CloseHost, code: number, reason: Uint8Array): void {
  const closing = (ws[kClosing] ??= new CloseRecord());
  closing.code = code;
  closing.reason = Buffer.from(reason); // a copy: the received chunk is not kept alive
  applyStep(ws, closeFrameReceived(ws[kState]), undefined, closeReplyCode(code), closing.reason);
}

/**
 * The peer ended its side of the TCP connection (RFC 6455 §7.1.1). Its caller has made sure no
 * received message is still being inflated (receive.ts defers the end behind one).
 */
export function transportEnd(ws: CloseHost): void {
  applyStep(ws, transportEnded(ws[kState]));
}

/**
 * The socket closed: sends still being compressed fail, zlib memory goes back now rather than at
 * garbage collection, and the parser stops. Its caller has made sure no received message is
 * still being inflated (receive.ts defers the close behind one).
 */
export function transportClose(ws: CloseHost): void {
  ws[kSender]?.socketClosed();
  ws[kDeflate]?.close();
  // No bytes come after the socket's 'close': a connection that never received any has no parser to stop.
  ws[kInbound]?.receiver.destroy();
  applyStep(ws, transportClosed(ws[kState]));
}

/** Writes our close frame; once it has reached the socket, the state machine learns so. */
function sendClose(ws: CloseHost, code: number | undefined, reason: string | Buffer | undefined): void {
  const payload = asBuffer(encodeClosePayload(code, code === undefined || reason === undefined ? undefined : typeof reason === 'string' ? reason : new Uint8Array(reason)));
  sendSide(ws).sendClose(payload, (error?: Error | null) => {
    if (error === undefined || error === null) applyStep(ws, closeFrameWritten(ws[kState]));
  });
}

function startCloseTimer(ws: CloseHost): void {
  const closing = (ws[kClosing] ??= new CloseRecord());
  if (closing.timer !== undefined) return;
  closing.timer = setTimeout(() => applyStep(ws, closeTimerFired(ws[kState])), ws[kSettings].closeTimeout);
  closing.timer.unref?.();
}

/** Ends our side of the TCP connection after the frames still waiting for the end-of-turn flush. */
function endSocket(ws: CloseHost): void {
  ws[kSender]?.flush();
  const socket = ws[kSocket];
  // Once: calling `end()` again makes Node build an `ERR_STREAM_ALREADY_FINISHED` error with its
  // stack trace (the peer's FIN often arrives after the close handshake has ended our side).
  if (socket !== undefined && !socket.writableEnded) socket.end();
}

/** The opening handshake failed: the request goes; 'error' and 'close' follow on the next tick (as `ws`). */
function abortHandshake(ws: CloseHost, error: Error): void {
  // Destroying the request makes it report 'socket hang up', which the state machine ignores.
  takeRequest(ws)?.destroy();
  process.nextTick(() => {
    applyStep(ws, errorOccurred(ws[kState]), error);
    applyStep(ws, handshakeAbortReported(ws[kState]));
  });
}
