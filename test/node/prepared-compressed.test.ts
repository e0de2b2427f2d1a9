/**
 * prepareCompressedFrame: a message compressed once, with an empty window, into a complete
 * server-to-client frame (FIN and RSV1 set) that any connection with a large enough window can
 * write unchanged (RFC 7692 §7.1.1, §7.2.1).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { PreparedCompressedMessage, prepareCompressedFrame } from '../../src/node/prepared-compressed.js';
import { codec, compress, decompress, inflateAlone, json } from './deflate-helpers.js';

void describe('fan-out: prepareCompressedFrame', () => {
  void test('one frame with FIN and RSV1 whose payload inflates without any history', async () => {
    const m = json(5);
    const prepared = await prepareCompressedFrame(m);
    assert.equal(prepared.frame[0], 0x80 | 0x40 | 0x1, 'FIN, RSV1, text');
    assert.equal(prepared.binary, false);
    assert.equal(prepared.windowBits, 15);
    const len = prepared.frame[1]! & 0x7f;
    const payload = prepared.frame.subarray(len === 126 ? 4 : 2);
    assert.equal(len === 126 ? prepared.frame.readUInt16BE(2) : len, payload.length);
    assert.equal(inflateAlone(payload).toString(), m);
    // A client with context from earlier messages inflates it too.
    const client = codec(false);
    const server = codec(true);
    await decompress(client, await compress(server, json(1)));
    assert.equal((await decompress(client, payload)).toString(), m);
    client.close();
    server.close();
    const bin = await prepareCompressedFrame(Buffer.alloc(3000, 1), { windowBits: 10 });
    assert.equal(bin.frame[0], 0x80 | 0x40 | 0x2, 'FIN, RSV1, binary');
    assert.equal(bin.windowBits, 10);
  });

  void test('every input form gives the same payload; binary follows the form unless set', async () => {
    const text = json(2);
    const bytes = Buffer.from(text);
    const copy = new Uint8Array(bytes);
    const forms = [
      await prepareCompressedFrame(text),
      await prepareCompressedFrame(bytes),
      await prepareCompressedFrame(copy.buffer),
      await prepareCompressedFrame(new DataView(copy.buffer, 0, copy.length)),
      await prepareCompressedFrame(bytes, { binary: false }),
    ];
    for (const p of forms) {
      assert.ok(p instanceof PreparedCompressedMessage);
      assert.ok(p.payload.equals(bytes), 'the uncompressed payload is kept for connections that cannot take the frame');
    }
    assert.deepEqual(forms.map((p) => p.binary), [false, true, true, true, false]);
    assert.deepEqual(forms.map((p) => p.frame[0]! & 0x0f), [0x1, 0x2, 0x2, 0x2, 0x1]);
  });

  void test('a window outside 8–15 or a concurrencyLimit below 1 is refused before any work', () => {
    assert.throws(() => prepareCompressedFrame('x', { windowBits: 16 }), RangeError);
    assert.throws(() => prepareCompressedFrame('x', { windowBits: 7 }), RangeError);
    assert.throws(() => prepareCompressedFrame('x', { concurrencyLimit: 0 }), RangeError);
    assert.throws(() => prepareCompressedFrame('x', { concurrencyLimit: 1.5 }), RangeError);
  });
});
