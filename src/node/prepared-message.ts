/**
 * A message framed once for many recipients. Server frames are not masked (RFC 6455 §5.1), so
 * the same bytes can go to every client: broadcasting costs one encoding, not one per client.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import { Opcode, encodeFrame } from '../protocol/index.js';
import { allocate, isBlob, toBytes, type Data } from './buffers.js';

/** A complete unmasked frame, ready to be written to any server-side connection. */
export class PreparedMessage {
  /** The frame bytes (header and payload). */
  readonly frame: Buffer;
  /** The payload alone, for connections that must mask (client role). */
  readonly payload: Buffer;
  /** Whether the message is binary. */
  readonly binary: boolean;

  /** @internal Use {@link prepareMessage}. */
  constructor(frame: Buffer, payload: Buffer, binary: boolean) {
    this.frame = frame;
    this.payload = payload;
    this.binary = binary;
  }
}

/**
 * Frames `data` once. Pass the result to `ws.send()` (or `wss.broadcast()`) for any number of
 * connections.
 * @param options - `binary` defaults to true unless `data` is a string
 * @throws TypeError for data that is not bytes or a string (Blobs must be read first)
 */
export function prepareMessage(data: Data, options: { binary?: boolean } = {}): PreparedMessage {
  if (isBlob(data)) throw new TypeError('prepareMessage needs bytes or a string; read the Blob first');
  const payload = toBytes(typeof data === 'number' ? String(data) : data);
  const binary = options.binary ?? typeof data !== 'string';
  const frame = encodeFrame(binary ? Opcode.Binary : Opcode.Text, payload, {}, allocate) as Buffer;
  return new PreparedMessage(frame, payload, binary);
}
