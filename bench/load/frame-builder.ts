/**
 * Builds client frames once, masked, so the hot loop of the generator only writes the same bytes
 * again (RFC 6455 §5.2, §5.3). Nothing here comes from the library under test.
 */
import { randomBytes } from 'node:crypto';

/** Opcodes the generator sends (RFC 6455 §5.2). */
export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** One of the opcodes in {@link Opcode}. */
export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/**
 * Frames a payload as one final, masked client frame.
 * @param opcode - the frame opcode
 * @param payload - the unmasked payload; it is not modified
 * @param maskKey - four mask bytes; a fresh random key when omitted
 * @returns header, mask key and masked payload in one buffer
 */
export function buildMaskedFrame(
  opcode: OpcodeValue,
  payload: Uint8Array,
  maskKey: Uint8Array = randomBytes(4),
): Buffer {
  const length = payload.length;
  // Payload length encoding: 7 bits, 7+16 or 7+64 (RFC 6455 §5.2).
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const headerLength = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) {
    frame[1] = 0x80 | length;
  } else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const maskAt = 2 + lengthBytes;
  for (let i = 0; i < 4; i++) frame[maskAt + i] = maskKey[i] ?? 0;
  for (let i = 0; i < length; i++) {
    frame[headerLength + i] = (payload[i] ?? 0) ^ (maskKey[i & 3] ?? 0);
  }
  return frame;
}

/**
 * Builds a masked close frame with status 1000 and no reason (RFC 6455 §5.5.1, §7.4.1).
 * @returns the frame bytes
 */
export function buildCloseFrame(): Buffer {
  const body = Buffer.alloc(2);
  body.writeUInt16BE(1000, 0);
  return buildMaskedFrame(Opcode.close, body);
}

/**
 * Fills a payload with bytes that depend on a seed and on the position, so a reply with bytes
 * shifted, swapped between messages or zeroed fails the byte-for-byte check.
 * @param size - payload length in bytes
 * @param seed - distinguishes payloads of different senders
 * @returns the payload
 */
export function patternedPayload(size: number, seed: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  // xorshift32: cheap, deterministic, never all zero.
  let state = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    payload[i] = state & 0xff;
  }
  return payload;
}
