/**
 * Frame encoding (RFC 6455 §5.2). Decoding lives in `receiver.ts`.
 * @packageDocumentation
 */
import { applyMask, type MaskFunction } from './mask.js';

/** Allocates an uninitialised byte buffer; the Node layer passes `Buffer.allocUnsafe`. */
export type Allocate = (size: number) => Uint8Array;

/** Allocation used when none is passed: zero-filled, always safe. */
export const defaultAllocate: Allocate = (size) => new Uint8Array(size);

/** How one frame is written. */
export interface FrameOptions {
  /** Last frame of the message (RFC 6455 §5.2 FIN). Default true. */
  fin?: boolean;
  /** Set RSV1: the message is compressed (RFC 7692 §6). Default false. */
  rsv1?: boolean;
  /**
   * The 4-byte masking key. Clients mask every frame (RFC 6455 §5.3) and servers never do, so
   * the Node layer passes a fresh random key on the client side and `undefined` on the server.
   */
  maskKey?: Uint8Array | undefined;
  /** Masking with the contract of {@link applyMask} (default); the Node layer passes a SIMD one. */
  mask?: MaskFunction;
}

/** Bytes of frame header before the payload, for a payload of `length` bytes. */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset`.
 * @returns the number of bytes written
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  length: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | undefined,
): number {
  let o = offset;
  target[o++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskKey === undefined ? 0 : 0x80;
  if (length < 126) {
    target[o++] = maskBit | length;
  } else if (length < 0x10000) {
    target[o++] = maskBit | 126;
    target[o++] = length >>> 8;
    target[o++] = length & 0xff;
  } else {
    // 64-bit network order; lengths are below 2^53, so the top bit is always 0 (§5.2).
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[o++] = maskBit | 127;
    target[o++] = high >>> 24;
    target[o++] = (high >>> 16) & 0xff;
    target[o++] = (high >>> 8) & 0xff;
    target[o++] = high & 0xff;
    target[o++] = low >>> 24;
    target[o++] = (low >>> 16) & 0xff;
    target[o++] = (low >>> 8) & 0xff;
    target[o++] = low & 0xff;
  }
  if (maskKey !== undefined) {
    target[o++] = maskKey[0]!;
    target[o++] = maskKey[1]!;
    target[o++] = maskKey[2]!;
    target[o++] = maskKey[3]!;
  }
  return o - offset;
}

/**
 * Encodes a whole frame into one new buffer: header, then the payload (masked when a key is
 * given; the caller's payload is never modified).
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  options: FrameOptions = {},
  allocate: Allocate = defaultAllocate,
): Uint8Array {
  const { fin = true, rsv1 = false, maskKey, mask = applyMask } = options;
  const size = frameHeaderSize(payload.length, maskKey !== undefined);
  const out = allocate(size + payload.length);
  writeFrameHeader(out, 0, opcode, payload.length, fin, rsv1, maskKey);
  out.set(payload, size);
  if (maskKey !== undefined) mask(out, maskKey, 0, size, out.length);
  return out;
}

/** Encodes only the header of a frame, for payloads too large to copy. */
export function encodeFrameHeader(
  opcode: number,
  length: number,
  options: FrameOptions = {},
  allocate: Allocate = defaultAllocate,
): Uint8Array {
  const { fin = true, rsv1 = false, maskKey } = options;
  const out = allocate(frameHeaderSize(length, maskKey !== undefined));
  writeFrameHeader(out, 0, opcode, length, fin, rsv1, maskKey);
  return out;
}
