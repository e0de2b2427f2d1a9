/**
 * The receive side of a `WebSocket` (websocket.ts): feeds the socket's bytes to the protocol's
 * `Receiver`, inflates compressed messages (RFC 7692 §7.2.2) in order, delivers messages in the
 * application's `binaryType`, answers pings, and hands close frames and errors to the
 * connection's state machine.
 *
 * A connection gets its receive side with the first bytes that arrive: one that never receives
 * has none.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { CloseCode, ClosedError, ProtocolError, ProtocolErrorCode, Receiver, ReceiverConfig, type ReceiverHandler } from '../protocol/index.js';
import { errorOccurred, handlerFailed, readyStateOf, receiveFailed, ReadyState } from '../protocol/connection.js';
import { allocate, asBuffer, fastMask, fastMaskCopy, utf8Check } from './buffers.js';
import { ConnectionFlag, kDeflate, kFlags, kInbound, kSettings, kSocket, kState } from './internal.js';
import { applyStep, peerClosed, transportClose, transportEnd, type CloseHost } from './close.js';
import type { ConnectionSettings } from './settings.js';
import type { PerMessageDeflate } from './deflate-codec.js';

/** What the receive side needs of its connection: its fields (internal.ts) and its API. */
export interface ReceiveHost extends CloseHost {
  readonly binaryType: string;
  readonly isPaused: boolean;
  [kInbound]: Inbound | undefined;
  pong(data: Buffer, mask: boolean): void;
}

/** The connection's receive side, made when the first bytes arrive: a connection that never receives has none. */
export function receiveSide(ws: ReceiveHost): Inbound {
  return (ws[kInbound] ??= new Inbound(ws, ws[kSocket]!, ws[kSettings], ws[kDeflate], (ws[kFlags] & ConnectionFlag.IS_SERVER) !== 0));
}

/**
 * `WebSocket.pause()` (`paused`) and `resume()`: TCP backpressure on the peer. Reading resumes
 * only when the receive side has not paused it too (behind a message being inflated).
 */
export function pauseReading(ws: ReceiveHost, paused: boolean): void {
  const ready = readyStateOf(ws[kState]);
  const socket = ws[kSocket];
  if (ready === ReadyState.CONNECTING || ready === ReadyState.CLOSED || socket === undefined) return;
  if (paused) {
    ws[kFlags] |= ConnectionFlag.PAUSED;
    socket.pause();
  } else {
    ws[kFlags] &= ~ConnectionFlag.PAUSED;
    if (ws[kInbound]?.receiver.paused !== true) socket.resume();
  }
}

/**
 * An async listener of the connection rejected (EventEmitter's captureRejections): like a handler
 * that threw, it fails this connection with 1011 (RFC 6455 §7.4.1) once the connection is open.
 */
export function listenerRejected(ws: ReceiveHost, error: unknown): void {
  const ready = readyStateOf(ws[kState]);
  if (ready !== ReadyState.OPEN && ready !== ReadyState.CLOSING) applyStep(ws, errorOccurred(ws[kState]), error);
  else if (ws[kSocket] !== undefined) receiveSide(ws).handlerFailed(error);
  else applyStep(ws, handlerFailed(ws[kState]), error, CloseCode.InternalError);
}

const Flag = {
  IS_SERVER: 1 << 0,
  /** A received message is being inflated; the end of the stream waits for it (and what follows it). */
  INFLATING: 1 << 1,
  END_PENDING: 1 << 2,
  CLOSE_PENDING: 1 << 3,
} as const;

/** The receive side of one connection: the parser's handler (one object instead of five closures). */
export class Inbound implements ReceiverHandler {
  readonly #ws: ReceiveHost;
  readonly #socket: Duplex;
  readonly #settings: ConnectionSettings;
  readonly #deflate: PerMessageDeflate | undefined;
  readonly receiver: Receiver;
  #flags: number;

  constructor(ws: ReceiveHost, socket: Duplex, settings: ConnectionSettings, deflate: PerMessageDeflate | undefined, isServer: boolean) {
    this.#ws = ws;
    this.#socket = socket;
    this.#settings = settings;
    this.#deflate = deflate;
    this.#flags = isServer ? Flag.IS_SERVER : 0;
    this.receiver = new Receiver(this, receiverConfig(settings, isServer, deflate !== undefined));
  }

  /** Parses a chunk; an application handler that throws fails this connection with 1011 only. */
  push(chunk: Buffer): void {
    try {
      this.receiver.push(chunk);
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /** The application's own handler threw: that connection closes with 1011 and everything else carries on. */
  handlerFailed(error: unknown): void {
    this.receiver.destroy(); // bytes that arrive later are dropped
    applyStep(this.#ws, handlerFailed(this.#ws[kState]), error, CloseCode.InternalError);
  }

  /** Whether the socket's end must wait for a message being inflated (it then runs after it). */
  deferEnd(): boolean {
    if ((this.#flags & Flag.INFLATING) === 0) return false;
    this.#flags |= Flag.END_PENDING;
    return true;
  }

  /**
   * Whether the socket's close must wait for a message being inflated: that message, and the
   * close frame that may sit behind it, are still delivered (as `ws` does); bytes left unread in
   * the socket join them.
   */
  deferClose(): boolean {
    if ((this.#flags & Flag.INFLATING) === 0) return false;
    this.#flags |= Flag.CLOSE_PENDING;
    for (let chunk: Buffer | null; (chunk = this.#socket.read() as Buffer | null) !== null;) this.receiver.push(chunk);
    return true;
  }

  onMessage(data: Uint8Array, isBinary: boolean, compressed: boolean): void {
    if (compressed) this.#inflate(data, isBinary);
    else this.#deliver(data, isBinary);
  }

  onPing(data: Uint8Array): void {
    const ws = this.#ws;
    if (this.#settings.autoPong && readyStateOf(ws[kState]) === ReadyState.OPEN) ws.pong(asBuffer(data), (this.#flags & Flag.IS_SERVER) === 0);
    ws.emit('ping', asBuffer(data));
  }

  onPong(data: Uint8Array): void {
    this.#ws.emit('pong', asBuffer(data));
  }

  onClose(code: number, reason: Uint8Array): void {
    peerClosed(this.#ws, code, reason);
  }

  onError(error: ProtocolError | ClosedError): void {
    // RFC 6455 §7.1.7: fail the connection with the error's close code.
    applyStep(this.#ws, receiveFailed(this.#ws[kState]), error, error.closeCode);
  }

  #deliver(data: Uint8Array, isBinary: boolean): void {
    const buf = asBuffer(data);
    const ws = this.#ws;
    if (!isBinary) {
      ws.emit('message', buf, false);
      return;
    }
    let out: unknown;
    switch (ws.binaryType) {
      case 'nodebuffer': out = buf; break;
      case 'arraybuffer': out = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength); break;
      case 'fragments': out = [buf]; break;
      default: out = new Blob([buf]);
    }
    ws.emit('message', out, true);
  }

  /**
   * Inflates a compressed message (RFC 7692 §7.2.2) with the receiver and the socket paused, so
   * the messages after it wait their turn; the receiver resumes once it is delivered.
   */
  #inflate(data: Uint8Array, isBinary: boolean): void {
    const receiver = this.receiver;
    const socket = this.#socket;
    receiver.pause();
    socket.pause();
    this.#flags |= Flag.INFLATING;
    this.#deflate!.decompress(asBuffer(data), (error, message) => {
      this.#flags &= ~Flag.INFLATING;
      if (readyStateOf(this.#ws[kState]) === ReadyState.CLOSED) return;
      if (receiver.stopped) {
        this.#afterInflate();
        return;
      }
      if (error === null && !isBinary && !this.#settings.skipUTF8Validation && !utf8Check(message)) {
        error = new ProtocolError(ProtocolErrorCode.INVALID_UTF8, 'Invalid WebSocket frame: invalid UTF-8 sequence', CloseCode.InvalidPayload);
      }
      if (error !== null) {
        receiver.destroy();
        this.onError(error);
        socket.resume(); // to read the peer's close frame and end of stream
        this.#afterInflate();
        return;
      }
      try {
        this.#deliver(message, isBinary);
        receiver.resume();
      } catch (e) {
        this.handlerFailed(e);
        socket.resume();
      }
      if ((this.#flags & Flag.INFLATING) === 0 && !receiver.paused && !this.#ws.isPaused) socket.resume();
      this.#afterInflate();
    });
  }

  /** Runs what the end of the stream deferred while a message was inflating, once none is. */
  #afterInflate(): void {
    if ((this.#flags & Flag.INFLATING) !== 0) return;
    if ((this.#flags & Flag.END_PENDING) !== 0) {
      this.#flags &= ~Flag.END_PENDING;
      transportEnd(this.#ws);
    }
    if ((this.#flags & Flag.CLOSE_PENDING) !== 0) {
      this.#flags &= ~Flag.CLOSE_PENDING;
      transportClose(this.#ws);
    }
  }
}

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
