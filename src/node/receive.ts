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
import { handlerFailed, readyStateOf, receiveFailed, ReadyState, type Step } from '../protocol/connection.js';
import { allocate, asBuffer, fastMask, fastMaskCopy, utf8Check } from './buffers.js';
import { kApply, kPeerClose, kState, kTransportClosed, kTransportEnded } from './internal.js';
import type { ConnectionSettings } from './settings.js';
import type { PerMessageDeflate } from './deflate-codec.js';

/** What the receive side needs of its connection (websocket.ts). */
export interface ReceiveHost {
  readonly binaryType: string;
  readonly isPaused: boolean;
  [kState]: number;
  [kApply](step: Step, error?: unknown, closeCode?: number): void;
  [kPeerClose](code: number, reason: Uint8Array): void;
  /** The socket's end, deferred while a message inflated, runs now. */
  [kTransportEnded](): void;
  /** The socket's close, deferred while a message inflated, runs now. */
  [kTransportClosed](): void;
  emit(event: string, ...args: unknown[]): boolean;
  pong(data: Buffer, mask: boolean): void;
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
    this.#ws[kApply](handlerFailed(this.#ws[kState]), error, CloseCode.InternalError);
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
    this.#ws[kPeerClose](code, reason);
  }

  onError(error: ProtocolError | ClosedError): void {
    // RFC 6455 §7.1.7: fail the connection with the error's close code.
    this.#ws[kApply](receiveFailed(this.#ws[kState]), error, error.closeCode);
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
      this.#ws[kTransportEnded]();
    }
    if ((this.#flags & Flag.CLOSE_PENDING) !== 0) {
      this.#flags &= ~Flag.CLOSE_PENDING;
      this.#ws[kTransportClosed]();
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
