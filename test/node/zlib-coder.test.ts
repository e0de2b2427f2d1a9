/**
 * The zlib job runner: one run writes, flushes with Z_SYNC_FLUSH and calls back once; inflating
 * stops past the output limit; a stream that ended (BFINAL, RFC 7692 §7.2.3.3) says so; a closed
 * stream fails the run. And the §7.2.1 tail removal.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';
import { Coder, EMPTY, stripTail, type CoderCallback } from '../../src/node/zlib-coder.js';
import { TAIL, inflateAlone, json } from './deflate-helpers.js';

function run(coder: Coder, input: Buffer[], limit = 0): Promise<{ error: Error | 'overflow' | undefined; out: Buffer; calls: number }> {
  return new Promise((resolve) => {
    let calls = 0;
    const cb: CoderCallback = (error, out) => {
      calls++;
      // A second call would land after this resolve; checked on the next turn.
      setImmediate(() => resolve({ error, out, calls }));
    };
    coder.run(input, limit, cb);
  });
}

const deflater = (): Coder => new Coder(zlib.createDeflateRaw({ windowBits: 15 }), '');
const inflater = (): Coder => new Coder(zlib.createInflateRaw({ windowBits: 15 }), '');

void describe('stripTail (RFC 7692 §7.2.1, §7.2.3.6)', () => {
  void test('removes a trailing 00 00 ff ff, leaves other output alone, and turns an empty flush into one 00', () => {
    assert.deepEqual([...stripTail(Buffer.from([1, 2, 0, 0, 0xff, 0xff]))], [1, 2]);
    assert.deepEqual([...stripTail(Buffer.from([1, 2, 3, 4, 5]))], [1, 2, 3, 4, 5]);
    assert.deepEqual([...stripTail(Buffer.from([0, 0, 0xff]))], [0, 0, 0xff]);
    assert.deepEqual([...stripTail(EMPTY)], [0x00]);
    assert.deepEqual([...stripTail(Buffer.from(TAIL))], [], 'a bare tail becomes nothing');
  });
});

void describe('Coder', () => {
  void test('a deflate run ends with the sync-flush tail; an inflate run gives the message back; each calls back once', async () => {
    const d = deflater();
    const i = inflater();
    try {
      const m = json(1);
      const compressed = await run(d, [Buffer.from(m)]);
      assert.equal(compressed.error, undefined);
      assert.equal(compressed.calls, 1);
      assert.deepEqual([...compressed.out.subarray(-4)], [...TAIL]);
      assert.equal(inflateAlone(stripTail(compressed.out)).toString(), m);
      const inflated = await run(i, [stripTail(compressed.out), TAIL]);
      assert.equal(inflated.error, undefined);
      assert.equal(inflated.calls, 1);
      assert.equal(inflated.out.toString(), m);
      // The same streams carry on for the next run (context takeover).
      const again = await run(i, [(await run(d, [Buffer.from(m)])).out]);
      assert.equal(again.out.toString(), m);
    } finally {
      d.close();
      i.close();
    }
  });

  void test("output past the limit → 'overflow', the stream destroyed without producing the rest", async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(4 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const i = inflater();
    const r = await run(i, [bomb], 64 * 1024);
    assert.equal(r.error, 'overflow');
    assert.equal(r.calls, 1);
    assert.equal(r.out.length, 0);
    assert.equal(i.destroyed, true);
    const atLimit = inflater();
    const exact = await run(atLimit, [zlib.deflateRawSync(Buffer.alloc(1000), { finishFlush: zlib.constants.Z_SYNC_FLUSH })], 1000);
    atLimit.close();
    assert.equal(exact.error, undefined, 'exactly at the limit is accepted');
    assert.equal(exact.out.length, 1000);
  });

  void test('data ending with a BFINAL block marks the stream ended (RFC 7692 §7.2.3.3)', async () => {
    const i = inflater();
    try {
      assert.equal(i.ended, false);
      // As the codec inflates a message: the data, then the tail it appends (§7.2.2).
      const finished = zlib.deflateRawSync(Buffer.from('Hello'));
      const r = await run(i, [finished, TAIL]);
      assert.equal(r.error, undefined);
      assert.equal(r.out.toString(), 'Hello');
      assert.equal(i.ended, true);
    } finally {
      i.close();
    }
  });

  void test('corrupt input or a closed stream fails the run with an Error, asynchronously', async () => {
    const corrupt = await run(inflater(), [Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    assert.ok(corrupt.error instanceof Error);
    assert.equal(corrupt.calls, 1);
    const d = deflater();
    d.close();
    let sync = true;
    const closed = new Promise<Error | 'overflow' | undefined>((resolve) => d.run([Buffer.from('x')], 0, (error) => { assert.equal(sync, false); resolve(error); }));
    sync = false;
    assert.ok((await closed) instanceof Error);
  });
});
