/**
 * The Node layer's frame-once wrapper (src/node/prepared-message.ts): Buffers from the Node
 * allocator, the same class as the protocol core's PreparedFrame, and the `ws`-style data types.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { PreparedFrame, defaultFrameEncoder } from '../../src/protocol/index.js';
import { PreparedMessage, bufferFrameEncoder, prepareMessage } from '../../src/node/prepared-message.js';

void describe('prepareMessage', () => {
  void test('frames are Buffers and PreparedMessage is the protocol core\'s PreparedFrame', () => {
    const prepared = prepareMessage('hi');
    assert.ok(Buffer.isBuffer(prepared.frame));
    assert.ok(Buffer.isBuffer(prepared.payload));
    assert.equal(prepared.payload.toString(), 'hi');
    assert.deepEqual([...prepared.frame], [0x81, 0x02, 0x68, 0x69]);
    assert.ok(prepared instanceof PreparedMessage);
    assert.equal(PreparedMessage, PreparedFrame);
    // A frame from another encoder is a PreparedMessage too: ws.send takes it as prepared.
    assert.ok(defaultFrameEncoder.prepare('x', false) instanceof PreparedMessage);
  });

  void test('binary defaults to the type of the data; numbers are their decimal text', () => {
    assert.equal(prepareMessage(Buffer.from('a')).binary, true);
    assert.equal(prepareMessage(new Uint16Array([1, 2])).payload.length, 4);
    assert.equal(prepareMessage(Buffer.from('a'), { binary: false }).frame[0], 0x81);
    const number = prepareMessage(42);
    assert.equal(number.payload.toString(), '42');
  });

  void test('a Blob or another type is a TypeError', () => {
    assert.throws(() => prepareMessage(new Blob(['x'])), TypeError);
    assert.throws(() => prepareMessage({} as unknown as string), TypeError);
  });

  void test('bufferFrameEncoder frames strings and bytes as Buffers', () => {
    const text = bufferFrameEncoder.prepare('é', true);
    assert.ok(Buffer.isBuffer(text.frame));
    assert.deepEqual([...text.frame], [0x82, 0x02, 0xc3, 0xa9]);
    assert.equal(bufferFrameEncoder.prepare(new Uint8Array([1]), false).binary, false);
  });
});
