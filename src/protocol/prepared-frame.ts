/**
 * Frame once, send to many. A server never masks its frames (RFC 6455 §5.1), so the frame of a
 * message is the same bytes for every client it goes to: a broadcast or a topic's fan-out encodes
 * it once and hands the same buffer to every connection.
 *
 * Sans-I/O like the rest of the core: the allocator is passed in (the Node layer passes
 * `Buffer.allocUnsafe`, which is pooled and does not zero-fill), and compression is not done here
 * (it needs zlib): a connection that negotiated permessage-deflate compresses a prepared frame's
 * payload itself, once per window size, in the Node layer.
 * @packageDocumentation
 */
import { Opcode } from './constants.js';
import { frameHeaderSize, writeFrameHeader } from './frame.js';

/**
 * A complete unmasked data frame (FIN set), ready to be written as it is to any server-side
 * connection. `B` is the byte type the allocator returned (`Buffer` in the Node layer).
 */
export class PreparedFrame<B extends Uint8Array = Uint8Array> {
  /** The frame bytes: header and payload. */
  readonly frame: B;
  /** The payload alone, for connections that must mask (client role) or compress it. */
  readonly payload: B;
  /** Whether the frame is binary (opcode 0x2) rather than text (0x1). */
  readonly binary: boolean;

  /**
   * Wraps a frame made elsewhere (a compressed one, say). {@link prepareFrame} makes one from a
   * payload.
   * @param frame - the whole frame
   * @param payload - its payload, uncompressed
   * @param binary - its message type
   */
  constructor(frame: B, payload: B, binary: boolean) {
    this.frame = frame;
    this.payload = payload;
    this.binary = binary;
  }
}

/**
 * Frames `payload` once as one unfragmented, unmasked text or binary frame (RFC 6455 §5.2). The
 * payload is copied behind the header, so the frame keeps the bytes of this call even if the
 * caller later reuses its buffer; the prepared frame's `payload` is a view of that copy.
 * @param payload - the message's bytes (for text: its UTF-8, which the caller has encoded)
 * @param binary - binary (opcode 0x2) or text (0x1)
 * @param allocate - returns `size` writable bytes; they are all overwritten
 */
export function prepareFrame<B extends Uint8Array>(payload: Uint8Array, binary: boolean, allocate: (size: number) => B): PreparedFrame<B> {
  const size = frameHeaderSize(payload.length, false);
  const frame = allocate(size + payload.length);
  writeFrameHeader(frame, 0, binary ? Opcode.Binary : Opcode.Text, payload.length, true, false, undefined);
  frame.set(payload, size);
  // subarray of a Buffer is a Buffer: the view has the allocator's type.
  return new PreparedFrame(frame, frame.subarray(size) as B, binary);
}

/**
 * Makes the frames a pub/sub engine sends: the seam between an engine, which frames a message once
 * for all its subscribers, and the I/O layer, which chooses the bytes' allocator (and how a string
 * becomes UTF-8). The Node layer's is `prepareMessage`, which returns `Buffer`s.
 */
export interface FrameEncoder<F extends PreparedFrame = PreparedFrame> {
  /**
   * Frames `data` once as one unmasked, unfragmented frame.
   * @param data - the payload; a string is encoded as UTF-8
   * @param binary - binary or text frame (independent of the type of `data`)
   */
  prepare(data: string | Uint8Array, binary: boolean): F;
}

const utf8 = new TextEncoder();

/**
 * A {@link FrameEncoder} with no I/O layer behind it: `TextEncoder` for strings and zero-filled
 * `Uint8Array`s. For engines tested with fakes and for other runtimes.
 */
export const defaultFrameEncoder: FrameEncoder = {
  prepare: (data, binary) => prepareFrame(typeof data === 'string' ? utf8.encode(data) : data, binary, (size) => new Uint8Array(size)),
};
