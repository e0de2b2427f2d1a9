/**
 * The framing both floor servers share (`floor.ts`, `floor-raw.ts`): just enough of RFC 6455 for
 * the load generator's traffic, and nothing a real implementation must add (see `floor.ts`).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { WsData } from './ws-api.js';

/** RFC 6455 §1.3: the GUID the accept value is derived with. */
export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The longest frame header: 2 bytes, a 64-bit length, a 4-byte mask key (RFC 6455 §5.2). */
const MAX_HEADER = 14;

/** Payloads up to this size are copied behind their header and written once. */
const COPY_LIMIT = 1024;

/** Where a floor connection's bytes go. */
export interface FloorTransport {
  /** Writes one buffer. */
  write(bytes: Buffer): void;
  /** Writes a header and a payload together (one system call where the transport can). */
  writePair(header: Buffer, payload: Buffer): void;
  /** Ends the connection after what was written; the server closes TCP first (RFC 6455 §7.1.1). */
  end(): void;
}

type Unmask = (buffer: Buffer, mask: Buffer) => void;

/** bufferutil's native unmask (what ws uses), or a plain loop when it is not installed. */
const unmask: Unmask = (() => {
  try {
    const native = createRequire(import.meta.url)('bufferutil') as { unmask?: Unmask };
    if (typeof native.unmask === 'function') return native.unmask;
  } catch {
    // not installed: the loop below
  }
  return (buffer: Buffer, mask: Buffer): void => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = buffer[i]! ^ mask[i & 3]!;
  };
})();

/** One upgraded connection, in the shape of the ws 8 subset: frames in, messages out. */
export class FloorConnection extends EventEmitter {
  /** 1 open, 2 closing, 3 closed (the ws/WHATWG values). */
  readyState = 1;
  readonly #transport: FloorTransport;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes the pending frame needs before it can be parsed. */
  #need = 0;

  /** @param transport - where frames are written */
  constructor(transport: FloorTransport) {
    super();
    this.#transport = transport;
  }

  /** Sends one message in one frame (RFC 6455 §5.2, server frames unmasked). */
  send(data: WsData, options: { binary: boolean }): void {
    if (this.readyState !== 1) return;
    const payload = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.#writeFrame(options.binary ? 0x82 : 0x81, payload);
  }

  /** The transport closed: emits 'close' once. */
  closed(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close');
  }

  /** Bytes received from the peer (modified in place by unmasking). */
  receive(chunk: Buffer): void {
    let buffer = chunk;
    if (this.#pendingBytes > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#need) return;
      buffer = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    let offset = 0;
    while (offset < buffer.length) {
      const available = buffer.length - offset;
      const second = buffer[offset + 1] ?? 0;
      let length = second & 0x7f;
      let headerLength = length === 126 ? 4 : length === 127 ? 10 : 2;
      if (available < headerLength) {
        this.#need = MAX_HEADER;
        break;
      }
      if (length === 126) length = buffer.readUInt16BE(offset + 2);
      else if (length === 127) length = buffer.readUInt32BE(offset + 2) * 2 ** 32 + buffer.readUInt32BE(offset + 6);
      const masked = (second & 0x80) !== 0;
      if (masked) headerLength += 4;
      if (available < headerLength + length) {
        this.#need = headerLength + length;
        break;
      }
      const payload = buffer.subarray(offset + headerLength, offset + headerLength + length);
      if (masked && length > 0) unmask(payload, buffer.subarray(offset + headerLength - 4, offset + headerLength));
      this.#onFrame(buffer[offset]! & 0x0f, payload);
      offset += headerLength + length;
    }
    if (offset < buffer.length) {
      const rest = buffer.subarray(offset);
      this.#pending.push(rest);
      this.#pendingBytes = rest.length;
    }
  }

  #onFrame(opcode: number, payload: Buffer): void {
    if (opcode === 0x1 || opcode === 0x2) this.emit('message', payload, opcode === 0x2);
    else if (opcode === 0x9) this.#writeFrame(0x8a, payload);
    else if (opcode === 0x8 && this.readyState === 1) {
      // RFC 6455 §5.5.1: echo the status code, then end the connection.
      this.readyState = 2;
      this.#writeFrame(0x88, payload.subarray(0, 2));
      this.#transport.end();
    }
  }

  #writeFrame(firstByte: number, payload: Buffer): void {
    const length = payload.length;
    const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const header = Buffer.allocUnsafe(length <= COPY_LIMIT ? headerLength + length : headerLength);
    header[0] = firstByte;
    if (headerLength === 2) header[1] = length;
    else if (headerLength === 4) {
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 127;
      header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      header.writeUInt32BE(length >>> 0, 6);
    }
    if (length <= COPY_LIMIT) {
      payload.copy(header, headerLength);
      this.#transport.write(header);
    } else this.#transport.writePair(header, payload);
  }
}
