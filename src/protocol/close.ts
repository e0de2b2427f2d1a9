/**
 * Close frames (RFC 6455 §5.5.1, §7.4): status code rules and payload encoding.
 * @packageDocumentation
 */
import { CloseCode, MAX_CLOSE_REASON } from './constants.js';

const encoder = new TextEncoder();

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 §7.4.1–§7.4.2).
 * 1004 is reserved, 1005, 1006 and 1015 must never be sent; 1012–1014 are assigned by the IANA
 * registry; 3000–4999 belong to libraries and applications. Everything else is invalid.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/**
 * Encodes the payload of a close frame. With no code the payload is empty (§5.5.1).
 * @throws RangeError when the code may not be sent or the reason is over 123 bytes
 */
export function encodeClosePayload(code?: number, reason?: string | Uint8Array): Uint8Array {
  if (code === undefined) {
    if (reason !== undefined && reason.length > 0) throw new RangeError('a close reason needs a close code');
    return new Uint8Array(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new RangeError(`invalid close code: ${String(code)}`);
  }
  const text = reason === undefined ? new Uint8Array(0) : typeof reason === 'string' ? encoder.encode(reason) : reason;
  if (text.length > MAX_CLOSE_REASON) {
    throw new RangeError(`close reason is ${text.length} bytes; at most ${MAX_CLOSE_REASON} fit in a control frame`);
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** The status code of a received close payload, or 1005 when it carried none (§7.1.5). */
export function closeCodeOf(payload: Uint8Array): number {
  return payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : CloseCode.NoStatus;
}
