/**
 * A message framed once for many recipients: the protocol core's {@link PreparedFrame} made with
 * `Buffer`s (pooled, not zero-filled, as the rest of the Node layer's frames). The encoding itself
 * is src/protocol/prepared-frame.ts; compressing it once per window size is deflate-codec.ts.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import { PreparedFrame, prepareFrame, type FrameEncoder } from '../protocol/index.js';
import { allocate, isBlob, toBytes, type Data } from './buffers.js';

/**
 * A complete unmasked frame, ready to be written to any server-side connection. The same class as
 * the protocol core's `PreparedFrame` (so a frame prepared by any encoder can be sent), typed with
 * `Buffer`s: `frame` (header and payload), `payload` (for connections that must mask: client role)
 * and `binary`.
 */
export type PreparedMessage = PreparedFrame<Buffer>;
/** @internal Use {@link prepareMessage}: the constructor wraps a frame made elsewhere. */
export const PreparedMessage: new (frame: Buffer, payload: Buffer, binary: boolean) => PreparedMessage = PreparedFrame;

const allocateBuffer = allocate as (size: number) => Buffer;

/**
 * Frames `data` once. Pass the result to `ws.send()` (or `wss.broadcast()`) for any number of
 * connections.
 * @param options - `binary` defaults to true unless `data` is a string
 * @throws TypeError for data that is not bytes or a string (Blobs must be read first)
 */
export function prepareMessage(data: Data, options: { binary?: boolean } = {}): PreparedMessage {
  if (isBlob(data)) throw new TypeError('prepareMessage needs bytes or a string; read the Blob first');
  const payload = toBytes(typeof data === 'number' ? String(data) : data);
  return prepareFrame(payload, options.binary ?? typeof data !== 'string', allocateBuffer);
}

/**
 * The Node layer's {@link FrameEncoder}, for a pub/sub engine whose subscribers are this layer's
 * connections: frames are `Buffer`s from the same pool as every other frame it writes.
 */
export const bufferFrameEncoder: FrameEncoder<PreparedMessage> = {
  prepare: (data, binary) => prepareMessage(data, { binary }),
};
