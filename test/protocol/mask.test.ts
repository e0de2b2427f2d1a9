import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMask, copyMasked } from '../../src/protocol/mask.js';
import { DEFAULT_KEY, bytes, naiveMask, prng } from './helpers.js';

void describe('RFC 6455 §5.3 masking: applyMask', () => {
  void test('RFC 6455 §5.7 example: "Hello" with key 37 fa 21 3d', () => {
    const data = bytes('Hello');
    applyMask(data, DEFAULT_KEY);
    assert.deepEqual(data, bytes([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
    applyMask(data, DEFAULT_KEY);
    assert.deepEqual(data, bytes('Hello'), 'masking twice restores the data');
  });

  void test('empty input and empty range are no-ops', () => {
    const empty = new Uint8Array(0);
    applyMask(empty, DEFAULT_KEY);
    assert.equal(empty.length, 0);
    const data = bytes([1, 2, 3]);
    applyMask(data, DEFAULT_KEY, 0, 2, 2);
    assert.deepEqual(data, bytes([1, 2, 3]));
  });

  void test('equals a naive byte loop for random lengths 0..300, offsets and unaligned byteOffsets', () => {
    const r = prng(42);
    for (let iter = 0; iter < 3000; iter++) {
      const len = r.int(301);
      const byteOffset = r.int(8);
      const offset = r.int(9);
      const key = r.bytes(4);
      const backing = r.bytes(byteOffset + len + 8);
      const data = backing.subarray(byteOffset, byteOffset + len);
      const original = backing.slice();
      applyMask(data, key, offset);
      const want = naiveMask(original.subarray(byteOffset, byteOffset + len), key, offset);
      assert.deepEqual(data, want, `len ${len}, byteOffset ${byteOffset}, offset ${offset}`);
      // Bytes around the view are untouched.
      assert.deepEqual(backing.subarray(0, byteOffset), original.subarray(0, byteOffset));
      assert.deepEqual(backing.subarray(byteOffset + len), original.subarray(byteOffset + len));
    }
  });

  void test('start/end restrict the transformed range; data[start] is payload byte `offset`', () => {
    const r = prng(7);
    for (let iter = 0; iter < 2000; iter++) {
      const len = r.int(301);
      const start = r.int(len + 1);
      const end = start + r.int(len - start + 1);
      const offset = r.int(100);
      const key = r.bytes(4);
      const backing = r.bytes(len + 3);
      const data = backing.subarray(r.int(4)).subarray(0, len);
      const original = data.slice();
      applyMask(data, key, offset, start, end);
      const want = original.slice();
      want.set(naiveMask(original.subarray(start, end), key, offset), start);
      assert.deepEqual(data, want, `len ${len} [${start}, ${end}) offset ${offset}`);
    }
  });

  void test('piecewise unmasking with running offsets equals whole unmasking', () => {
    const r = prng(99);
    for (let iter = 0; iter < 500; iter++) {
      const len = r.int(1200);
      const key = r.bytes(4);
      const payload = r.bytes(len);
      const whole = payload.slice();
      applyMask(whole, key);
      assert.deepEqual(whole, naiveMask(payload, key));
      // Pieces as separate, differently aligned buffers, like TCP chunks.
      const out = new Uint8Array(len);
      let at = 0;
      while (at < len) {
        const n = Math.min(len - at, 1 + r.int(iter % 2 === 0 ? 7 : 200));
        const pad = r.int(4);
        const chunk = new Uint8Array(pad + n);
        chunk.set(payload.subarray(at, at + n), pad);
        const piece = chunk.subarray(pad);
        applyMask(piece, key, at);
        out.set(piece, at);
        at += n;
      }
      assert.deepEqual(out, whole, `iteration ${iter}`);
    }
  });

  void test('large unaligned buffer (word loop) equals the naive loop', () => {
    const r = prng(5);
    for (const byteOffset of [0, 1, 2, 3]) {
      const key = r.bytes(4);
      const backing = r.bytes(100003 + byteOffset);
      const data = backing.subarray(byteOffset, byteOffset + 100003);
      const want = naiveMask(data, key, 3);
      applyMask(data, key, 3);
      assert.deepEqual(data, want, `byteOffset ${byteOffset}`);
    }
  });

  void test('the key is not modified', () => {
    const key = Uint8Array.of(1, 2, 3, 4);
    applyMask(new Uint8Array(100), key, 1);
    assert.deepEqual(key, Uint8Array.of(1, 2, 3, 4));
  });
});

void describe('RFC 6455 §5.3 masking: copyMasked', () => {
  void test('writes source XOR key into target at targetStart and leaves source untouched', () => {
    const r = prng(11);
    for (let iter = 0; iter < 500; iter++) {
      const len = r.int(300);
      const source = r.bytes(len);
      const sourceCopy = source.slice();
      const targetStart = r.int(10);
      const target = r.bytes(targetStart + len + r.int(10));
      const targetCopy = target.slice();
      const key = r.bytes(4);
      copyMasked(source, target, targetStart, key);
      assert.deepEqual(source, sourceCopy, 'source unchanged');
      assert.deepEqual(target.subarray(targetStart, targetStart + len), naiveMask(source, key));
      assert.deepEqual(target.subarray(0, targetStart), targetCopy.subarray(0, targetStart));
      assert.deepEqual(target.subarray(targetStart + len), targetCopy.subarray(targetStart + len));
    }
  });
});
