/**
 * The error type the client rejects and reports with.
 * @packageDocumentation
 */

/**
 * Codes the client itself produces, besides the server's codes (`FORBIDDEN`, `UNKNOWN_METHOD`,
 * … — see the protocol doc) and any code an application's request handler throws.
 */
export const ClientErrorCode = {
  /** No reply within the request's timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The offline queue was full; the oldest waiting operation was refused. */
  QUEUE_FULL: 'QUEUE_FULL',
  /** `close()` was called (or the connection was lost with reconnection off) before a reply. */
  CLOSED: 'CLOSED',
  /** The socket failed, or the server did not select the `parley.v1` subprotocol. */
  CONNECTION: 'CONNECTION',
  /** The server sent something the client could not read. */
  BAD_ENVELOPE: 'BAD_ENVELOPE',
  /** A topic name the protocol does not allow. */
  BAD_TOPIC: 'BAD_TOPIC',
} as const;

/** An error with a stable `code`: one of {@link ClientErrorCode} or a server code. */
export class ParleyClientError extends Error {
  /** Stable code to branch on; `message` is for people. */
  readonly code: string;
  /** @param code - stable code @param message - for people */
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ParleyClientError';
    this.code = code;
  }
}
