/**
 * The error model: one base class with a stable `code` and the close code that goes with it.
 * Subclasses are few and chosen by how the caller reacts (architecture guide, "Errors"):
 * the peer broke the protocol ({@link ProtocolError}), the opening handshake failed
 * ({@link HandshakeError}), the connection is closed ({@link ClosedError}), or the application
 * misused an API ({@link InvalidStateError}). Browser-safe: no Node built-ins, so the browser
 * client reports with the same class. Every code is in docs/errors.md (a test checks both ways).
 * @packageDocumentation
 */
import { CloseCode } from './constants.js';

/**
 * The codes of {@link ProtocolError}. Where `ws` has a code for the same fault, the code and the
 * message are `ws`'s: Parley is a drop-in for `ws`, and programs match on `code` (docs/errors.md).
 */
export const ProtocolErrorCode = {
  /** A reserved opcode, a continuation with nothing to continue, or a new data frame inside a fragmented message (RFC 6455 §5.2, §5.4). Close 1002. */
  INVALID_OPCODE: 'WS_ERR_INVALID_OPCODE',
  /** RSV1 set without permessage-deflate, or on a control or continuation frame (§5.2, RFC 7692 §6). Close 1002. */
  UNEXPECTED_RSV_1: 'WS_ERR_UNEXPECTED_RSV_1',
  /** RSV2 or RSV3 set: no negotiated extension defines them (§5.2). Close 1002. */
  UNEXPECTED_RSV_2_3: 'WS_ERR_UNEXPECTED_RSV_2_3',
  /** A fragmented control frame (§5.5). Close 1002. */
  EXPECTED_FIN: 'WS_ERR_EXPECTED_FIN',
  /** A control frame over 125 bytes, or a close frame with a 1-byte payload (§5.5, §5.5.1). Close 1002. */
  INVALID_CONTROL_PAYLOAD_LENGTH: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  /** A client frame that is not masked (§5.1). Close 1002. */
  EXPECTED_MASK: 'WS_ERR_EXPECTED_MASK',
  /** A server frame that is masked (§5.1). Close 1002. */
  UNEXPECTED_MASK: 'WS_ERR_UNEXPECTED_MASK',
  /** A 64-bit length with the most significant bit set, or beyond 2^53 − 1 (§5.2). Close 1009. */
  UNSUPPORTED_DATA_PAYLOAD_LENGTH: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  /** A message over `maxPayload`, before or after inflating (§10.4). Close 1009. */
  UNSUPPORTED_MESSAGE_LENGTH: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  /** Text, or a close reason, that is not valid UTF-8 (§8.1). Close 1007. */
  INVALID_UTF8: 'WS_ERR_INVALID_UTF8',
  /** A close frame whose status code may not be sent (§7.4). Close 1002. */
  INVALID_CLOSE_CODE: 'WS_ERR_INVALID_CLOSE_CODE',
  /** A message spread over more frames than `maxFragments` allows. Close 1009. */
  TOO_MANY_BUFFERED_PARTS: 'WS_ERR_TOO_MANY_BUFFERED_PARTS',
  /** Compressed data that does not inflate (RFC 7692 §7.2.2); `ws` has no code of its own for it. Close 1007. */
  INFLATE_FAILED: 'ERR_WS_INFLATE_FAILED',
} as const;

/** One of the codes in {@link ProtocolErrorCode}. */
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/**
 * Every error code Parley raises or reports. Stable: applications may switch on them.
 * Documented in docs/errors.md.
 */
export const ErrorCode = {
  ...ProtocolErrorCode,
  /** The opening handshake was refused or malformed (RFC 6455 §4). */
  HANDSHAKE_FAILED: 'ERR_WS_HANDSHAKE_FAILED',
  /** The opening handshake did not finish in time. */
  HANDSHAKE_TIMEOUT: 'ERR_WS_HANDSHAKE_TIMEOUT',
  /** `parley serve` refused a handshake's token (HTTP 401). */
  AUTH_FAILED: 'ERR_AUTH_FAILED',
  /** The connection closed (or was closing) before the operation could be done. */
  CLOSED: 'ERR_WS_CLOSED',
  /** The outgoing queue passed `maxBufferedAmount`. Close 1008 (or the send is refused, by option). */
  BUFFER_OVERFLOW: 'ERR_WS_BUFFER_OVERFLOW',
  /** The heartbeat saw no pong or traffic within the idle timeout. */
  HEARTBEAT_TIMEOUT: 'ERR_WS_HEARTBEAT_TIMEOUT',
  /** A call made in a state that does not allow it (send before open, etc.). */
  INVALID_STATE: 'ERR_WS_INVALID_STATE',
  /** A publish on a pub/sub engine that was closed (an {@link InvalidStateError}). */
  PUBSUB_CLOSED: 'ERR_PUBSUB_CLOSED',
  /** `parley serve` was given a configuration it cannot use. */
  CONFIG_INVALID: 'ERR_CONFIG_INVALID',
  /** Redis did not answer a command within the command timeout. */
  REDIS_TIMEOUT: 'ERR_REDIS_TIMEOUT',
  /** The Redis adapter is not connected, or Redis is not answering its health checks. */
  REDIS_UNAVAILABLE: 'ERR_REDIS_UNAVAILABLE',
} as const;

/** One of the stable error codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Marks a {@link ProtocolError}, which extends `RangeError` (as `ws`'s errors do) and so cannot
 * have `ParleyError.prototype` on its chain; {@link ParleyError}'s `Symbol.hasInstance` reads it.
 */
const kParleyError = Symbol('parley.error');

/**
 * Base class of every error Parley raises or reports. `instanceof ParleyError` holds for every
 * subclass, {@link ProtocolError} (a `RangeError`) included.
 */
export class ParleyError extends Error {
  /**
   * Stable machine-readable code: one of {@link ErrorCode}, or a real-time protocol code
   * (`FORBIDDEN`, `TIMEOUT`, an application's own, …) for errors of the real-time layer and the
   * browser client (docs/realtime-protocol.md).
   */
  readonly code: string;
  /** The WebSocket close code that answers this error, or that closed the connection (RFC 6455 §7.4.1). */
  readonly closeCode: number;

  /**
   * @param code - stable error code
   * @param message - human-readable detail; never sent to the peer
   * @param closeCode - close status that answers the error
   * @param options - `cause`, as for `Error`
   */
  constructor(code: ErrorCode | (string & {}), message: string, closeCode: number = CloseCode.InternalError, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.closeCode = closeCode;
  }

  /**
   * Instances of the subclasses, and {@link ProtocolError}s by their mark. Subclasses inherit this
   * static method, so only `ParleyError` itself reads the mark: `x instanceof HandshakeError`
   * keeps the default answer.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return (this as unknown) === ParleyError && typeof value === 'object' && value !== null && kParleyError in value;
  }
}

/**
 * The peer broke RFC 6455 or RFC 7692; the connection is failed with {@link ProtocolError.closeCode}.
 * A `RangeError`, as `ws` reports peer protocol errors, with `ws`'s codes and messages (a drop-in:
 * programs match on `code` and `instanceof RangeError`), and a {@link ParleyError} too.
 */
export class ProtocolError extends RangeError {
  /** Stable code, one of {@link ProtocolErrorCode}. */
  readonly code: ProtocolErrorCode;
  /** The close code that answers this error (RFC 6455 §7.4.1). */
  readonly closeCode: number;

  /**
   * @param code - stable error code
   * @param message - human-readable detail; never sent to the peer
   * @param closeCode - close status that answers the error
   */
  constructor(code: ProtocolErrorCode, message: string, closeCode: number = CloseCode.ProtocolError) {
    super(message);
    // `ws` raises a RangeError, but a plain Error for invalid UTF-8: String(error) reads the same.
    this.name = code === ProtocolErrorCode.INVALID_UTF8 ? 'Error' : 'RangeError';
    this.code = code;
    this.closeCode = closeCode;
  }
}
Object.defineProperty(ProtocolError.prototype, kParleyError, { value: true });

/** The opening handshake failed; `status` is the HTTP status that answers (server) or was received (client). */
export class HandshakeError extends ParleyError {
  /** HTTP status code sent or received. */
  readonly status: number;
  /**
   * @param message - what was wrong
   * @param status - the HTTP status
   * @param code - stable error code
   */
  constructor(message: string, status: number, code: ErrorCode = ErrorCode.HANDSHAKE_FAILED) {
    super(code, message, CloseCode.ProtocolError);
    this.status = status;
  }
}

/**
 * The connection closed, or was closing, before an operation could be done (a send, a read of a
 * Blob, a compression). `closeCode` and `reason` say how it closed when that is known (1006 and
 * `''` otherwise). Its `name` is `'Error'`: `ws` reports these with a plain `Error` and programs
 * match on `String(error)`.
 */
export class ClosedError extends ParleyError {
  /** The close reason received, or sent when none was received; `''` when there was none. */
  readonly reason: string;
  /**
   * @param message - what could not be done
   * @param closeCode - how the connection closed (1006 when no close frame was exchanged or not yet)
   * @param reason - the close reason
   */
  constructor(message: string, closeCode: number = CloseCode.Abnormal, reason = '') {
    super(ErrorCode.CLOSED, message, closeCode);
    this.name = 'Error';
    this.reason = reason;
  }
}

/**
 * The application called a method the state does not allow. Its `name` is `'Error'`: `ws`
 * throws a plain `Error` here and programs match on `String(error)`; the class and the `code`
 * tell it apart.
 */
export class InvalidStateError extends ParleyError {
  /**
   * @param message - what was misused
   * @param code - {@link ErrorCode.INVALID_STATE}, or a more precise code of the same kind
   */
  constructor(message: string, code: ErrorCode = ErrorCode.INVALID_STATE) {
    super(code, message, CloseCode.InternalError);
    this.name = 'Error';
  }
}
