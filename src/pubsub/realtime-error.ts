/**
 * The error a request handler throws to answer with its own code. Anything else a handler throws
 * is answered `INTERNAL` with a generic message: internal details never reach the client.
 * @packageDocumentation
 */

import { ParleyError } from '../protocol/errors.js';

/** Codes an application may send: 1–64 characters of `A–Z 0–9 _`, like the protocol's own. */
const APP_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Thrown (or rejected) by a `requests` handler: the client gets `err` with this code and message.
 * A {@link ParleyError} whose code is the application's own (or a real-time protocol code).
 */
export class RealtimeError extends ParleyError {

  /**
   * @param code - `A–Z 0–9 _`, starting with a letter, at most 64 characters
   * @param message - for people; sent to the client as it is (at most 1,000 characters)
   * @throws TypeError for a code of another form
   */
  constructor(code: string, message: string) {
    if (typeof code !== 'string' || !APP_CODE.test(code)) throw new TypeError(`RealtimeError code must match ${String(APP_CODE)}`);
    super(code, message.slice(0, 1000));
  }
}
