/**
 * The closing of a `WebSocket` (websocket.ts): carrying out the actions of the protocol's state
 * machine (src/protocol/connection.ts) on the socket: our close frame (RFC 6455 §5.5.1), the close
 * timer, ending or destroying the TCP connection (§7.1.1), aborting the opening handshake, and
 * the 'error' and 'close' events (§7.1.5: the code reported).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { CloseCode, encodeClosePayload } from '../protocol/index.js';
import {
  Action, actionsOf, closeEventCode, closeFrameReceived, closeFrameWritten, closeReplyCode, closeTimerFired, errorOccurred,
  handshakeAbortReported, stateOf, type Step,
} from '../protocol/connection.js';
import { asBuffer } from './buffers.js';
import {
  kApply, kCloseRecord, kCloseTimeout, kSendSide, kSender, kSocket, kState, kTakeObserver, kTakeRequest, type CloseObserver,
} from './internal.js';
import type { Sender } from './sender.js';

const EMPTY = Buffer.alloc(0);

/** The close handshake's record, made when it starts (a connection that never closes has none). */
export class CloseRecord {
  /** Code of the peer's close frame (1006 until one arrives). */
  code: number = CloseCode.Abnormal;
  /** Reason of the peer's close frame (a copy). */
  reason: Buffer = EMPTY;
  /** Cuts the connection off when the close handshake takes longer than `closeTimeout`. */
  timer: NodeJS.Timeout | undefined = undefined;
}

/** What closing needs of its connection: named internal accessors (websocket.ts). */
export interface CloseHost {
  [kState]: number;
  readonly [kSocket]: Duplex | undefined;
  readonly [kSender]: Sender | undefined;
  readonly [kCloseTimeout]: number;
  [kSendSide](): Sender;
  [kCloseRecord](create: boolean): CloseRecord | undefined;
  [kTakeRequest](): { destroy(): void } | undefined;
  [kTakeObserver](): CloseObserver | undefined;
  [kApply](s: Step, error?: unknown, closeCode?: number, closeReason?: string | Buffer): void;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
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
    const closing = ws[kCloseRecord](false);
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
    const closing = ws[kCloseRecord](false);
    // Server side: the observer learns of the close before the listeners (client tracking, heartbeat).
    ws[kTakeObserver]()?.connectionClosed(ws);
    ws.emit('close', closeEventCode(ws[kState], closing?.code ?? CloseCode.Abnormal), closing?.reason ?? EMPTY);
  }
}

/** The peer's close frame arrived (RFC 6455 §7.1.3): recorded, and answered echoing its code (§5.5.1). */
export function peerClosed(ws: CloseHost, code: number, reason: Uint8Array): void {
  const closing = ws[kCloseRecord](true)!;
  closing.code = code;
  closing.reason = Buffer.from(reason); // a copy: the received chunk is not kept alive
  ws[kApply](closeFrameReceived(ws[kState]), undefined, closeReplyCode(code), closing.reason);
}

/** Writes our close frame; once it has reached the socket, the state machine learns so. */
function sendClose(ws: CloseHost, code: number | undefined, reason: string | Buffer | undefined): void {
  const payload = asBuffer(encodeClosePayload(code, code === undefined || reason === undefined ? undefined : typeof reason === 'string' ? reason : new Uint8Array(reason)));
  ws[kSendSide]().sendClose(payload, (error?: Error | null) => {
    if (error === undefined || error === null) ws[kApply](closeFrameWritten(ws[kState]));
  });
}

function startCloseTimer(ws: CloseHost): void {
  const closing = ws[kCloseRecord](true)!;
  if (closing.timer !== undefined) return;
  closing.timer = setTimeout(() => ws[kApply](closeTimerFired(ws[kState])), ws[kCloseTimeout]);
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
  ws[kTakeRequest]()?.destroy();
  process.nextTick(() => {
    ws[kApply](errorOccurred(ws[kState]), error);
    ws[kApply](handshakeAbortReported(ws[kState]));
  });
}
