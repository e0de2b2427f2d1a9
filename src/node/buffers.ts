/**
 * Byte helpers of the Node layer: turning what the application sends into bytes, masking keys
 * from a pooled random source, and views over the protocol core's `Uint8Array`s.
 * @packageDocumentation
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { applyMask, maskCopyOf, type Allocate, type MaskCopyFunction, type MaskFunction, type Utf8Check } from '../protocol/index.js';
import { createWasmMasking } from './wasm-mask.js';

/** What `send`, `ping` and `pong` accept, as in `ws`. */
export type Data = string | Buffer | ArrayBuffer | ArrayBufferView | Blob | number | readonly Buffer[];

/** Uninitialised allocation for buffers that are fully written before use. */
export const allocate: Allocate = (size) => Buffer.allocUnsafe(size);

/** SIMD UTF-8 check from Node (simdutf). */
export const utf8Check: Utf8Check = (bytes) => isUtf8(bytes);

const wasmMasking = createWasmMasking();

/**
 * Masking and unmasking for the protocol core: WebAssembly SIMD for long spans, the core's
 * JavaScript loop where WebAssembly SIMD is missing.
 */
export const fastMask: MaskFunction = wasmMasking?.mask ?? applyMask;

/** Unmasking while copying (for messages assembled from several pieces), over the same module. */
export const fastMaskCopy: MaskCopyFunction = wasmMasking?.maskCopy ?? maskCopyOf(applyMask);

/** The same bytes as a `Buffer`, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const EMPTY = Buffer.alloc(0);

/**
 * Converts synchronous data to bytes. Strings become UTF-8, numbers become their decimal text
 * (as `ws` does), typed arrays and `ArrayBuffer`s are viewed, not copied.
 * @throws TypeError for anything else, so no uninitialised or unintended bytes reach the wire
 */
export function toBytes(data: Exclude<Data, Blob> | undefined): Buffer {
  if (data === undefined) return EMPTY;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'number') return Buffer.from(String(data), 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((b) => Buffer.isBuffer(b))) return Buffer.concat(data);
  throw new TypeError('data must be a string, Buffer, ArrayBuffer, ArrayBufferView, Blob or an array of Buffers');
}

/** Whether `data` is a `Blob`, whose bytes can only be read asynchronously. */
export function isBlob(data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

const POOL_SIZE = 8192;
let pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/**
 * A fresh 4-byte masking key (RFC 6455 §5.3: unpredictable, from a strong source). Keys come
 * from a pool filled 8 KiB at a time so masking costs no system call per frame.
 */
export function nextMaskKey(): Buffer {
  if (poolOffset + 4 > POOL_SIZE) {
    pool = Buffer.allocUnsafe(POOL_SIZE);
    randomFillSync(pool);
    poolOffset = 0;
  }
  const key = pool.subarray(poolOffset, poolOffset + 4);
  poolOffset += 4;
  return key;
}
