/**
 * Frame once (src/protocol/prepared-frame.ts): the bytes of a prepared frame, a payload copied at
 * preparation time, and an allocator that is the caller's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PreparedFrame, defaultFrameEncoder, prepareFrame } from '../../src/protocol/prepared-frame.js';
import { bytes } from './helpers.js';

const plain = (size: number): Uint8Array => new Uint8Array(size);

void describe('prepareFrame', () => {
  void test('RFC 6455 §5.7 unmasked single-frame text message "Hello"', () => {
    const prepared = prepareFrame(bytes('Hello'), false, plain);
    assert.deepEqual(prepared.frame, bytes([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    assert.deepEqual(prepared.payload, bytes('Hello'));
    assert.equal(prepared.binary, false);
    assert.ok(prepared instanceof PreparedFrame);
  });

  void test('binary frames and every length class of RFC 6455 §5.2', () => {
    for (const [length, header] of [[0, [0x82, 0x00]], [126, [0x82, 126, 0, 126]], [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]]] as const) {
      const payload = new Uint8Array(length).fill(7);
      const prepared = prepareFrame(payload, true, plain);
      assert.deepEqual([...prepared.frame.subarray(0, header.length)], [...header], `length ${length}`);
      assert.equal(prepared.frame.length, header.length + length);
      assert.equal(prepared.payload.length, length);
      assert.equal(prepared.payload.buffer, prepared.frame.buffer, 'the payload is a view of the frame, not a second copy');
    }
  });

  void test('the payload is copied: later writes to the caller\'s bytes do not change the frame', () => {
    const payload = bytes('abc');
    const prepared = prepareFrame(payload, true, plain);
    payload[0] = 0x7a;
    assert.deepEqual(prepared.payload, bytes('abc'));
  });

  void test('the allocator is the caller\'s, and every byte it returns is overwritten', () => {
    const sizes: number[] = [];
    const dirty = (size: number): Uint8Array => {
      sizes.push(size);
      return new Uint8Array(size).fill(0xee);
    };
    const prepared = prepareFrame(bytes('hi'), false, dirty);
    assert.deepEqual(sizes, [4]);
    assert.deepEqual(prepared.frame, bytes([0x81, 0x02, 0x68, 0x69]));
  });
});

void describe('defaultFrameEncoder', () => {
  void test('strings become UTF-8 and the frame type follows `binary`, not the data type', () => {
    const text = defaultFrameEncoder.prepare('é€', false);
    assert.deepEqual(text.frame, bytes([0x81, 0x05, 0xc3, 0xa9, 0xe2, 0x82, 0xac]));
    const binaryText = defaultFrameEncoder.prepare('a', true);
    assert.equal(binaryText.frame[0], 0x82);
    const textBytes = defaultFrameEncoder.prepare(bytes([0x61]), false);
    assert.deepEqual(textBytes.frame, bytes([0x81, 0x01, 0x61]));
  });
});
