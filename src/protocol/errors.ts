/**
 * The error model: one base class with a stable `code` and the close code that goes with it.
 * Subclasses are few and chosen by how the caller reacts.
 * @packageDocumentation
 */
import { CloseCode } from './constants.js';

/**
 * Every error code Parley reports. Stable: applications may switch on them.
 * Documented in docs/errors.md.
 */
export const ErrorCode = {
  /** A frame broke RFC 6455 framing rules (§5.2–§5.5). Close 1002. */
  FRAME_INVALID: 'ERR_WS_FRAME_INVALID',
  /** The peer masked when it must not, or did not mask when it must (§5.1, §5.3). Close 1002. */
  MASK_INVALID: 'ERR_WS_MASK_INVALID',
  /** RSV bits set without an extension that defines them (§5.2). Close 1002. */
  RSV_INVALID: 'ERR_WS_RSV_INVALID',
  /** An opcode that is reserved (§5.2). Close 1002. */
  OPCODE_INVALID: 'ERR_WS_OPCODE_INVALID',
  /** A control frame over 125 bytes or fragmented (§5.5). Close 1002. */
  CONTROL_FRAME_INVALID: 'ERR_WS_CONTROL_FRAME_INVALID',
  /** A continuation with nothing to continue, or a new message inside a fragmented one (§5.4). Close 1002. */
  FRAGMENT_INVALID: 'ERR_WS_FRAGMENT_INVALID',
  /** A close frame with a 1-byte payload or an invalid status code (§5.5.1, §7.4). Close 1002. */
  CLOSE_INVALID: 'ERR_WS_CLOSE_INVALID',
  /** Text or a close reason that is not valid UTF-8 (§8.1). Close 1007. */
  UTF8_INVALID: 'ERR_WS_UTF8_INVALID',
  /** A message larger than `maxPayload`, or a 64-bit length with the top bit set (§5.2, §10.4). Close 1009. */
  MESSAGE_TOO_BIG: 'ERR_WS_MESSAGE_TOO_BIG',
  /** A message split into more frames than `maxFragments` allows. Close 1009. */
  TOO_MANY_FRAGMENTS: 'ERR_WS_TOO_MANY_FRAGMENTS',
  /** Compressed data that does not inflate (RFC 7692 §7.2.3). Close 1007. */
  INFLATE_FAILED: 'ERR_WS_INFLATE_FAILED',
  /** The opening handshake was refused or malformed (RFC 6455 §4). */
  HANDSHAKE_FAILED: 'ERR_WS_HANDSHAKE_FAILED',
  /** The opening handshake did not finish in time. */
  HANDSHAKE_TIMEOUT: 'ERR_WS_HANDSHAKE_TIMEOUT',
  /** The peer did not answer a close frame within the close timeout. */
  CLOSE_TIMEOUT: 'ERR_WS_CLOSE_TIMEOUT',
  /** The outgoing queue passed `maxBufferedAmount`. Close 1008 (or the send is refused, by option). */
  BUFFER_OVERFLOW: 'ERR_WS_BUFFER_OVERFLOW',
  /** The heartbeat saw no pong or traffic within the idle timeout. */
  HEARTBEAT_TIMEOUT: 'ERR_WS_HEARTBEAT_TIMEOUT',
  /** A call made in a state that does not allow it (send before open, etc.). */
  INVALID_STATE: 'ERR_WS_INVALID_STATE',
} as const;

/** One of the stable error codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error Parley raises or reports. */
export class ParleyError extends Error {
  /** Stable machine-readable code, one of {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** The WebSocket close code that answers this error (RFC 6455 §7.4.1). */
  readonly closeCode: number;

  /**
   * @param code - stable error code
   * @param message - human-readable detail; never sent to the peer
   * @param closeCode - close status that answers the error
   */
  constructor(code: ErrorCode, message: string, closeCode: number = CloseCode.ProtocolError) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** The peer broke RFC 6455 or RFC 7692; the connection is failed with {@link ParleyError.closeCode}. */
export class ProtocolError extends ParleyError {}

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
 * The application called a method the connection's state does not allow. Its `name` is `'Error'`:
 * `ws` throws a plain `Error` here and programs match on `String(error)`; the class and the
 * `code` tell it apart.
 */
export class InvalidStateError extends ParleyError {
  /** @param message - what was misused */
  constructor(message: string) {
    super(ErrorCode.INVALID_STATE, message, CloseCode.InternalError);
    this.name = 'Error';
  }
}
