/**
 * The tests' own RFC 6455 §5.2 frame encoder and decoder, written independently of src/protocol so
 * that the code under test is checked against a second implementation rather than against itself.
 * Everything in a {@link FrameSpec} may be wrong on purpose (lying lengths, non-minimal length
 * forms, RSV bits, reserved opcodes); masking is a plain byte loop (§5.3).
 */
import { Buffer } from 'node:buffer';

/** Opcodes spelled out here so the tests do not take their inputs from the code under test. */
export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

/** The masking key used when a spec says `mask: true`. */
export const MASK_KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/** How a frame is written. */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: string | Uint8Array | readonly number[];
  /** Default true. */
  readonly fin?: boolean;
  /** The three RSV bits as a number: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  readonly rsv?: number;
  /** true: mask with {@link MASK_KEY}; a Uint8Array: with that key; default unmasked. */
  readonly mask?: boolean | Uint8Array;
  /** Length written in the header instead of the payload's. */
  readonly declaredLength?: bigint;
  /** Force a length form. Default: the minimal one for the (declared) length. */
  readonly lengthForm?: 7 | 16 | 64;
}

/** A decoded frame; the payload is unmasked and copied. */
export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Bytes from a string (UTF-8), a byte list or a byte array (copied). */
export function toBytes(data: string | Uint8Array | readonly number[]): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

function keyOf(spec: FrameSpec): Uint8Array | undefined {
  return spec.mask === true ? MASK_KEY : spec.mask === false ? undefined : spec.mask;
}

/**
 * Encodes a frame header for a payload of `length` bytes (the declared length wins if given).
 * @param spec - the frame
 * @param length - the payload's real length
 * @returns the header, mask key included
 */
export function encodeHeader(spec: FrameSpec, length: number): Buffer {
  const declared = spec.declaredLength ?? BigInt(length);
  const key = keyOf(spec);
  const form = spec.lengthForm ?? (declared < 126n ? 7 : declared < 65536n ? 16 : 64);
  const extra = form === 7 ? 0 : form === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + extra + (key === undefined ? 0 : 4));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  header[1] = (key === undefined ? 0 : 0x80) | (form === 7 ? Number(declared) : form === 16 ? 126 : 127);
  if (form === 16) header.writeUInt16BE(Number(declared), 2);
  if (form === 64) header.writeBigUInt64BE(declared, 2);
  if (key !== undefined) header.set(key, 2 + extra);
  return header;
}

/**
 * Encodes a whole frame: header, then the payload, masked if the spec says so.
 * @param spec - the frame
 * @returns its bytes
 */
export function encodeFrame(spec: FrameSpec): Buffer {
  const body = toBytes(spec.payload ?? []);
  const key = keyOf(spec);
  if (key !== undefined) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([encodeHeader(spec, body.length), body]);
}

/**
 * Decodes one frame at `at`.
 * @param buf - received bytes
 * @param at - where the frame starts
 * @returns the frame and its size on the wire, or undefined when it is not all there yet
 */
export function decodeFrame(buf: Buffer, at = 0): { frame: DecodedFrame; size: number } | undefined {
  if (buf.length - at < 2) return undefined;
  const b0 = buf[at]!;
  const b1 = buf[at + 1]!;
  let o = at + 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (buf.length < o + 2) return undefined;
    length = buf.readUInt16BE(o);
    o += 2;
  } else if (length === 127) {
    if (buf.length < o + 8) return undefined;
    length = Number(buf.readBigUInt64BE(o));
    o += 8;
  }
  const masked = (b1 & 0x80) !== 0;
  if (masked && buf.length < o + 4) return undefined;
  const key = masked ? buf.subarray(o, o + 4) : undefined;
  if (masked) o += 4;
  if (buf.length < o + length) return undefined;
  const payload = Buffer.from(buf.subarray(o, o + length));
  if (key !== undefined) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i % 4]!;
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload }, size: o + length - at };
}

/**
 * Decodes the complete frames at the front of `buf`.
 * @param buf - received bytes
 * @returns the frames and the bytes after the last complete one
 */
export function decodeFrames(buf: Buffer): { frames: DecodedFrame[]; rest: Buffer } {
  const frames: DecodedFrame[] = [];
  let offset = 0;
  for (let next = decodeFrame(buf, offset); next !== undefined; next = decodeFrame(buf, offset)) {
    frames.push(next.frame);
    offset += next.size;
  }
  return { frames, rest: buf.subarray(offset) };
}
