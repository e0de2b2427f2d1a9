import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WASM_MASK_MIN, createWasmMask, createWasmMasking, maskModuleBytes } from '../../src/node/wasm-mask.js';
import { fastMask, fastMaskCopy } from '../../src/node/buffers.js';
import { applyMask } from '../../src/protocol/mask.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import type { ReceiverOptions } from '../../src/protocol/receiver.js';
import { OP, assemblyStream, buildFrame, ev, everyCut, feedCuts } from '../protocol/helpers.js';

/** RFC 6455 §5.3 spelled out byte by byte, independent of both implementations. */
function naive(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ key[(i + offset) % 4]!;
  return out;
}

void describe('WebAssembly SIMD masking', () => {
  void test('the hand-assembled module validates and instantiates (SIMD is available on Node >= 20)', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    assert.equal(wasm.validate(maskModuleBytes()), true);
    assert.equal(typeof createWasmMask(), 'function');
    assert.notEqual(fastMask, applyMask, 'the Node layer injects the WebAssembly path');
  });

  void test('equals the JavaScript loop byte for byte: every length 0..300, offset 0..7, byte alignment 0..15', () => {
    // Threshold 0: the WebAssembly path is taken for every length, tail handling included.
    const wasm = createWasmMask(0)!;
    const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
    const backing = new Uint8Array(16 + 300 + 16);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + 11) & 0xff;
    for (let len = 0; len <= 300; len++) {
      for (let align = 0; align < 16; align++) {
        for (let offset = 0; offset < 8; offset++) {
          const a = backing.slice();
          const b = backing.slice();
          wasm(a.subarray(align, align + len), key, offset);
          applyMask(b.subarray(align, align + len), key, offset);
          assert.deepEqual(a, b, `len ${len}, align ${align}, offset ${offset}`);
        }
      }
    }
  });

  void test('start and end restrict the range: bytes outside [start, end) are untouched', () => {
    const wasm = createWasmMask(0)!;
    const key = Uint8Array.of(1, 2, 0x80, 0xff);
    const data = randomBytes(400);
    for (let start = 0; start < 40; start += 3) {
      for (let end = start; end <= 400; end += 17) {
        const a = Uint8Array.from(data);
        const want = Uint8Array.from(data);
        want.set(naive(data.subarray(start, end), key, 5), start);
        wasm(a, key, 5, start, end);
        assert.deepEqual(a, want, `[${start}, ${end})`);
      }
    }
  });

  void test('large random buffers (several blocks, odd lengths and offsets) match the byte loop', () => {
    const wasm = createWasmMask()!;
    for (const size of [WASM_MASK_MIN, 32 * 1024 - 1, 32 * 1024 + 17, 65_536 + 14, 1_000_003, 4 * 1024 * 1024 + 5]) {
      for (const shift of [0, 1, 3]) {
        const key = randomBytes(4);
        const backing = randomBytes(size + shift);
        const data = backing.subarray(shift);
        const want = naive(data, key, shift);
        wasm(data, key, shift);
        assert.deepEqual(Buffer.from(data.buffer, data.byteOffset, data.length).equals(Buffer.from(want)), true, `size ${size}, shift ${shift}`);
      }
    }
  });

  void test('masking twice restores the data, and a payload unmasked piece by piece equals it unmasked whole', () => {
    const key = randomBytes(4);
    const original = randomBytes(200_000);
    const whole = Uint8Array.from(original);
    fastMask(whole, key, 0);
    const pieces = Uint8Array.from(original);
    for (let at = 0; at < pieces.length;) {
      const n = Math.min(pieces.length - at, 1 + ((at * 7919) % 40_000));
      fastMask(pieces.subarray(at, at + n), key, at);
      at += n;
    }
    assert.deepEqual(pieces, whole);
    fastMask(whole, key, 0);
    assert.deepEqual(whole, Uint8Array.from(original));
  });

  void test('encodeFrame with the injected mask writes the same frame as with the JavaScript loop', () => {
    const payload = randomBytes(70_000);
    const maskKey = Uint8Array.of(9, 8, 7, 6);
    const plain = encodeFrame(2, payload, { maskKey });
    const simd = encodeFrame(2, payload, { maskKey, mask: fastMask });
    assert.deepEqual(simd, plain);
    assert.deepEqual(Buffer.from(plain.subarray(14)).equals(Buffer.from(naive(payload, maskKey, 0))), true);
  });
});

void describe('WebAssembly SIMD unmasking while copying (maskCopy)', () => {
  void test('equals copy-then-unmask byte for byte: every length 0..300, offset 0..7, source and target alignment; source untouched', () => {
    // Threshold 0: the WebAssembly path is taken for every length, the last partial block included.
    const { maskCopy } = createWasmMasking(0)!;
    const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
    const source = new Uint8Array(8 + 300);
    for (let i = 0; i < source.length; i++) source[i] = (i * 37 + 11) & 0xff;
    const before = source.slice();
    for (let len = 0; len <= 300; len++) {
      for (let offset = 0; offset < 8; offset++) {
        for (const [from, to] of [[0, 0], [1, 3], [5, 6], [3, 0]] as const) {
          const target = new Uint8Array(8 + 300 + 8).fill(0xaa);
          const want = target.slice();
          want.set(naive(source.subarray(from, from + len), key, offset), to);
          maskCopy(source.subarray(from, from + len), target, to, key, offset);
          assert.deepEqual(target, want, `len ${len}, offset ${offset}, from ${from}, to ${to}`);
        }
      }
    }
    assert.deepEqual(source, before);
  });

  void test('large sources (several 32 KiB blocks, odd lengths) at odd places in the target', () => {
    for (const size of [WASM_MASK_MIN, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 17, 65_536 + 14, 1_000_003]) {
      for (const offset of [0, 1, 3]) {
        const key = randomBytes(4);
        const source = randomBytes(size);
        const target = Buffer.alloc(size + 9, 0x55);
        fastMaskCopy(source, target, 7, key, offset);
        assert.equal(target.subarray(7, 7 + size).equals(Buffer.from(naive(source, key, offset))), true, `size ${size}, offset ${offset}`);
        assert.equal(target[6], 0x55);
        assert.equal(target[7 + size], 0x55);
      }
    }
  });

  const wasmAlways = createWasmMasking(0)!;
  const receivers: Array<[string, ReceiverOptions]> = [
    ['WebAssembly for every span', { expectMasked: true, mask: wasmAlways.mask, maskCopy: wasmAlways.maskCopy }],
    ['the Node layer\'s injected functions', { expectMasked: true, mask: fastMask, maskCopy: fastMaskCopy }],
  ];
  for (const [label, opts] of receivers) {
    void test(`receiver with ${label}: every cut, and pairs of cuts, give the same messages`, () => {
      const { stream, expected } = assemblyStream(true);
      for (const cuts of everyCut(stream.length, 23)) assert.deepEqual(feedCuts(stream, opts, cuts), expected, `cuts ${cuts.join(', ')}`);
    });
  }

  void test('receiver with the injected functions: a 70,000-byte message cut around block and chunk boundaries', () => {
    const payload = randomBytes(70_000);
    const stream = buildFrame({ opcode: OP.BINARY, payload, mask: Uint8Array.of(0x11, 0x22, 0x33, 0x44) });
    const opts: ReceiverOptions = { expectMasked: true, mask: fastMask, maskCopy: fastMaskCopy };
    const places = [1, 2, 13, 14, 15, 64, 511, 512, 513, 32 * 1024 + 14, 35_000, 65_536, 65_537, 69_999, stream.length - 1];
    for (const a of places) {
      assert.deepEqual(feedCuts(stream, opts, [a]), [ev.binary(payload)], `cut ${a}`);
      for (const b of places) if (b > a) assert.deepEqual(feedCuts(stream, opts, [a, b]), [ev.binary(payload)], `cuts ${a}, ${b}`);
    }
  });
});
