/**
 * The error type the client rejects and reports with.
 * @packageDocumentation
 */

import { ParleyError } from '../protocol/errors.js';

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

/**
 * The client rejects and reports with {@link ParleyError}, the one error class of the whole
 * library (browser-safe), whose `code` is one of {@link ClientErrorCode} or a server code.
 */
export { ParleyError };

/**
 * The former name of the client's error class, kept so that `instanceof ParleyClientError` and
 * `new ParleyClientError(code, message)` keep working.
 * @deprecated Use {@link ParleyError}.
 */
export const ParleyClientError = ParleyError;
/** @deprecated Use {@link ParleyError}. */
export type ParleyClientError = ParleyError;
