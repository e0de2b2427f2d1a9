/**
 * Masking (RFC 6455 §5.3): XOR of the payload with a 4-byte key, cycled. The same operation masks
 * and unmasks. Long spans are processed a 32-bit word at a time.
 * @packageDocumentation
 */

/**
 * The signature of {@link applyMask}. The Node layer injects a faster implementation with the
 * same contract (WebAssembly SIMD, see `src/node/wasm-mask.ts`), as it injects `buffer.isUtf8`
 * for UTF-8; the core stays free of I/O and of platform code.
 */
export type MaskFunction = (data: Uint8Array, key: ArrayLike<number>, offset?: number, start?: number, end?: number) => void;

/**
 * Unmasking while copying: writes `source` XOR `key` into `target` at `targetStart`, where
 * `source[0]` is payload byte number `offset`; `source` itself is not modified. A message that
 * has to be copied into one buffer anyway is unmasked on the way, one pass over its bytes
 * instead of two. {@link maskCopyOf} builds one from a {@link MaskFunction}; the Node layer
 * injects a WebAssembly one (`src/node/wasm-mask.ts`) that saves a copy.
 */
export type MaskCopyFunction = (source: Uint8Array, target: Uint8Array, targetStart: number, key: ArrayLike<number>, offset?: number) => void;

/** Little-endian hosts are assumed for the word loop; checked once at load. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs `data[start, end)` in place with `key`, where `data[start]` is payload byte number
 * `offset` (so a payload that arrives in pieces is unmasked piece by piece).
 * @param data - bytes to transform in place
 * @param key - the 4-byte masking key
 * @param offset - index within the whole payload of `data[start]`
 */
export function applyMask(data: Uint8Array, key: ArrayLike<number>, offset = 0, start = 0, end = data.length): void {
  const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!;
  let i = start;
  let j = offset & 3;
  if (end - i >= 32 && LITTLE_ENDIAN) {
    // Bytes up to a 4-byte aligned address, then words, then the tail.
    while (((data.byteOffset + i) & 3) !== 0) {
      data[i] = data[i]! ^ key[j]!;
      i++;
      j = (j + 1) & 3;
    }
    const words = (end - i) >>> 2;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    // The key rotated so that its byte j lines up with the first byte of the word.
    const r0 = key[j]!, r1 = key[(j + 1) & 3]!, r2 = key[(j + 2) & 3]!, r3 = key[(j + 3) & 3]!;
    const word = (r0 | (r1 << 8) | (r2 << 16) | (r3 << 24)) >>> 0;
    for (let w = 0; w < words; w++) view[w] = view[w]! ^ word;
    i += words << 2;
  }
  for (; i < end; i++) {
    switch (j) {
      case 0: data[i] = data[i]! ^ k0; break;
      case 1: data[i] = data[i]! ^ k1; break;
      case 2: data[i] = data[i]! ^ k2; break;
      default: data[i] = data[i]! ^ k3;
    }
    j = (j + 1) & 3;
  }
}

/**
 * Writes `source` XOR `key` into `target` at `targetStart` (masking while copying, so the
 * caller's buffer is never modified), where `source[0]` is payload byte number `offset`.
 */
export function copyMasked(source: Uint8Array, target: Uint8Array, targetStart: number, key: ArrayLike<number>, mask: MaskFunction = applyMask, offset = 0): void {
  target.set(source, targetStart);
  mask(target, key, offset, targetStart, targetStart + source.length);
}

/**
 * A {@link MaskCopyFunction} from an in-place {@link MaskFunction}: {@link copyMasked} with it
 * (the default, where nothing faster is injected).
 * @param mask - the in-place unmasking to use on the copy
 */
export function maskCopyOf(mask: MaskFunction = applyMask): MaskCopyFunction {
  return (source, target, targetStart, key, offset = 0) => copyMasked(source, target, targetStart, key, mask, offset);
}
