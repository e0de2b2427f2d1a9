/**
 * Unmasking (RFC 6455 §5.3) with WebAssembly SIMD: 16 bytes per XOR instead of the 4 of the
 * JavaScript word loop in `protocol/mask.ts`. `ws` does this step in native code (bufferutil);
 * this gets most of that speed with no native build and no dependency.
 *
 * The module is a dozen instructions, assembled here byte by byte (WebAssembly binary format,
 * core spec §5) rather than compiled, so the project needs no toolchain for it. A WebAssembly
 * function can only touch its own linear memory, so a span is copied in, XORed there and copied
 * back, in blocks that stay in the L1/L2 cache; the two copies are `memcpy`s and cost less than
 * the JavaScript XOR they replace.
 * @packageDocumentation
 */
import { applyMask, type MaskCopyFunction, type MaskFunction } from '../protocol/index.js';

/** Bytes per block copied through the module's memory (a multiple of 64, at most one page). */
const BLOCK = 32 * 1024;

/**
 * Spans shorter than this go to the JavaScript loop: below it the copies and the call into
 * WebAssembly cost more than they save (measured: the two cross between 256 and 512 bytes; at
 * 1 KiB WebAssembly does 3.1 GB/s against 1.9, at 64 KiB 8.4 against 3.0).
 */
export const WASM_MASK_MIN = 512;

/** Unsigned LEB128 (the binary format's integer encoding). */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, for `i32.const`. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A vector: its length, then its items. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Opcodes used below (core spec §5.4).
const I32 = 0x7f;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const BLOCK_OP = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const EMPTY_TYPE = 0x40;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const I32X4_SPLAT = 17;
const V128_XOR = 81;

/**
 * The module: one page of memory (exported as `memory`) and
 * `mask(start: i32, end: i32, key: i32)`, which XORs `[start, end)` with the 4-byte key
 * repeated, 64 bytes per turn of its loop (`end - start` must be a multiple of 64).
 */
export function maskModuleBytes(): Uint8Array {
  // Locals: 0 start (advances), 1 end, 2 key; 3 the key spread over a v128.
  const body = [
    ...vec([[1, V128]]),
    LOCAL_GET, 2, SIMD, ...uleb(I32X4_SPLAT), LOCAL_SET, 3,
    BLOCK_OP, EMPTY_TYPE, LOOP, EMPTY_TYPE,
    LOCAL_GET, 0, LOCAL_GET, 1, I32_GE_U, BR_IF, 1,
    // memory[start + k] ^= key for k = 0, 16, 32, 48: four XORs per turn of the loop, the
    // offsets in the instructions' memarg (alignment hint 0: spans start anywhere).
    ...[0, 16, 32, 48].flatMap((k) => [
      LOCAL_GET, 0,
      LOCAL_GET, 0, SIMD, ...uleb(V128_LOAD), 0, ...uleb(k),
      LOCAL_GET, 3, SIMD, ...uleb(V128_XOR),
      SIMD, ...uleb(V128_STORE), 0, ...uleb(k),
    ]),
    LOCAL_GET, 0, I32_CONST, ...sleb(64), I32_ADD, LOCAL_SET, 0,
    BR, 0,
    END, END,
    END,
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, vec([[0x60, 3, I32, I32, I32, 0]])), // type 0: (i32 i32 i32) -> ()
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(5, vec([[0x01, 1, 1]])), // memory 0: exactly one page
    ...section(7, vec([[...name('mask'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

interface MaskExports {
  mask(this: void, start: number, end: number, key: number): void;
  memory: { buffer: ArrayBuffer };
}

/** The part of the WebAssembly JavaScript API used here (the project's TypeScript libs omit it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

/** Instantiates the module, or returns undefined where WebAssembly SIMD is not available. */
function instantiate(): MaskExports | undefined {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (wasm === undefined) return undefined;
  const bytes = maskModuleBytes();
  try {
    if (!wasm.validate(bytes)) return undefined;
    // Synchronous compilation is allowed for a module this small, and keeps the import graph
    // free of top-level await.
    const instance = new wasm.Instance(new wasm.Module(bytes));
    return instance.exports as MaskExports;
  } catch {
    return undefined;
  }
}

/** Unmasking in place and while copying, both over one instance of the module. */
export interface WasmMasking {
  /** In place, with the contract of `applyMask`. */
  readonly mask: MaskFunction;
  /**
   * While copying, with the contract of {@link MaskCopyFunction}: each block is copied into the
   * module's memory, XORed there and copied out into the target, so the source is read once and
   * the target written once (unmasking in place and then copying costs one copy more).
   */
  readonly maskCopy: MaskCopyFunction;
}

/**
 * Builds unmasking over the module, or returns undefined when WebAssembly SIMD is not available
 * (the caller then keeps the JavaScript loop).
 * @param threshold - spans shorter than this use the JavaScript loop (default {@link WASM_MASK_MIN})
 */
export function createWasmMasking(threshold = WASM_MASK_MIN): WasmMasking | undefined {
  const exports = instantiate();
  if (exports === undefined) return undefined;
  const { mask } = exports;
  const memory = new Uint8Array(exports.memory.buffer);
  // A page of memory never grows, so the view stays valid.
  const inPlace: MaskFunction = (data, key, offset = 0, start = 0, end = data.length) => {
    const length = end - start;
    if (length < threshold) {
      applyMask(data, key, offset, start, end);
      return;
    }
    const word = keyWord(key, offset);
    const whole = start + (length & ~63);
    for (let at = start; at < whole; at += BLOCK) {
      const n = Math.min(BLOCK, whole - at);
      memory.set(data.subarray(at, at + n), 0);
      mask(0, n, word);
      data.set(memory.subarray(0, n), at);
    }
    if (whole < end) applyMask(data, key, offset + (whole - start), whole, end);
  };
  const copying: MaskCopyFunction = (source, target, targetStart, key, offset = 0) => {
    const length = source.length;
    if (length < threshold) {
      target.set(source, targetStart);
      applyMask(target, key, offset, targetStart, targetStart + length);
      return;
    }
    const word = keyWord(key, offset);
    for (let at = 0; at < length; at += BLOCK) {
      const n = Math.min(BLOCK, length - at);
      memory.set(source.subarray(at, at + n), 0);
      // XORed up to the next multiple of 64 (the loop's step): the bytes past n are leftovers in
      // the module's memory (BLOCK + 63 fits in its page) and are not copied out.
      mask(0, (n + 63) & ~63, word);
      target.set(memory.subarray(0, n), targetStart + at);
    }
  };
  return { mask: inPlace, maskCopy: copying };
}

/**
 * The key as one little-endian 32-bit lane (spec §4.2.10), rotated so that its byte
 * `offset % 4` meets the first byte; blocks are multiples of 64 bytes, so every block starts at
 * the same phase.
 */
function keyWord(key: ArrayLike<number>, offset: number): number {
  const j = offset & 3;
  return key[j]! | (key[(j + 1) & 3]! << 8) | (key[(j + 2) & 3]! << 16) | (key[(j + 3) & 3]! << 24);
}

/**
 * Builds a {@link MaskFunction} over the module, or returns undefined when WebAssembly SIMD is not
 * available (the caller then keeps the JavaScript loop).
 * @param threshold - spans shorter than this use the JavaScript loop (default {@link WASM_MASK_MIN})
 */
export function createWasmMask(threshold = WASM_MASK_MIN): MaskFunction | undefined {
  return createWasmMasking(threshold)?.mask;
}
