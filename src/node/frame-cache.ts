/**
 * Frame once per turn: the loop of `ws`'s README, `wss.clients.forEach((c) => c.send(data))`,
 * sends the same payload object to every client one after the other. Server frames are not
 * masked (RFC 6455 §5.1), so every client's frame is the same bytes; the last unmasked,
 * uncompressed frame made is kept here and the next send of the same payload reuses it instead
 * of allocating and copying again.
 *
 * Safety: a string is immutable, so the same string always frames to the same bytes. A Buffer
 * (or any byte view) can change between two sends; a reuse therefore compares the payload's
 * current bytes with the cached frame's (one `memcmp`, cheaper than the allocation and copy it
 * saves), and a changed payload is framed again: each send carries the bytes its payload held
 * when `send` was called, never an older version. The entry is dropped at the end of the turn
 * (see write-batch.ts), so the cache keeps no payload or frame alive across turns.
 * @packageDocumentation
 * @internal
 */
import type { Buffer } from 'node:buffer';

let key: unknown;
/** Opcode and FIN of the cached frame, as `opcode | (fin ? 0x80 : 0)`. */
let kind = -1;
let frame: Buffer | undefined;
/** Where the payload starts in `frame`. */
let payloadOffset = 0;

/**
 * The cached frame for `data` sent with `opcode`/`fin`, unmasked and uncompressed, or undefined.
 * @param data - the object the application passed to `send`
 * @param bytes - its bytes now (undefined for a string: strings cannot change)
 */
export function cachedFrame(data: unknown, bytes: Buffer | undefined, opcode: number, fin: boolean): Buffer | undefined {
  if (data !== key || frame === undefined || kind !== (opcode | (fin ? 0x80 : 0))) return undefined;
  if (bytes !== undefined) {
    // The application may have written into its Buffer since the cached frame was made.
    if (bytes.length !== frame.length - payloadOffset || frame.compare(bytes, 0, bytes.length, payloadOffset) !== 0) return undefined;
  }
  return frame;
}

/** Remembers the frame just made for `data` (unmasked, uncompressed; payload at `offset`). */
export function rememberFrame(data: unknown, opcode: number, fin: boolean, bytes: Buffer, offset: number): void {
  key = data;
  kind = opcode | (fin ? 0x80 : 0);
  frame = bytes;
  payloadOffset = offset;
}

/** Forgets the cached frame: called at the end of every turn that queued frames. */
export function clearFrameCache(): void {
  key = undefined;
  frame = undefined;
  kind = -1;
}
