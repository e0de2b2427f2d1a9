/**
 * The pool of reset zlib streams that connections without context takeover borrow for one
 * message (RFC 7692 §7.2.1), and the counters tests and monitoring read.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Coder } from '../../src/node/zlib-coder.js';
import { borrow, createCoder, deflateStats, drainDeflatePool, giveBack } from '../../src/node/zlib-pool.js';
import { inflateAlone, json } from './deflate-helpers.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function deflate(coder: Coder, data: string): Promise<Buffer> {
  return new Promise((resolve, reject) => coder.run([Buffer.from(data)], 0, (error, out) => (error === undefined ? resolve(out) : reject(error instanceof Error ? error : new Error(error)))));
}

void describe('zlib stream pool', () => {
  void test('a stream given back is lent again, reset: its output refers to nothing before it', async () => {
    drainDeflatePool();
    const options = { level: 6 };
    const a = borrow(false, 15, options);
    const m = json(4);
    const first = await deflate(a, m);
    giveBack(a, 10);
    assert.equal(deflateStats().pooled, 1);
    const b = borrow(false, 15, { level: 6 });
    assert.equal(b, a, 'the same stream, by configuration');
    assert.equal(deflateStats().pooled, 0);
    const second = await deflate(b, m);
    assert.ok(second.equals(first), 'identical output: the window was reset');
    assert.equal(inflateAlone(second.subarray(0, -4)).toString(), m);
    const other = borrow(false, 14, options);
    assert.notEqual(other, b, 'another window is another configuration');
    b.close();
    other.close();
  });

  void test('at most max idle per configuration; the surplus is closed; a destroyed stream is not kept', async () => {
    drainDeflatePool();
    await nextTurn();
    const base = deflateStats().streams;
    const coders = [borrow(true, 12, {}), borrow(true, 12, {}), borrow(true, 12, {})];
    assert.equal(deflateStats().streams, base + 3);
    for (const c of coders) giveBack(c, 2);
    assert.equal(deflateStats().pooled, 2);
    assert.equal(coders[2]!.destroyed, true);
    const broken = borrow(true, 11, {});
    broken.close();
    giveBack(broken, 2);
    assert.equal(deflateStats().pooled, 2);
    await nextTurn();
    assert.equal(deflateStats().streams, base + 2, 'closed streams are no longer counted');
    drainDeflatePool();
    await nextTurn();
    assert.deepEqual({ streams: deflateStats().streams, pooled: deflateStats().pooled }, { streams: base, pooled: 0 });
  });

  void test("createCoder counts a connection's own stream while it is open, and never pools it by key", async () => {
    drainDeflatePool();
    await nextTurn();
    const base = deflateStats().streams;
    const own = createCoder(false, 15, {}, '');
    assert.equal(own.key, '');
    assert.equal(deflateStats().streams, base + 1);
    own.close();
    await nextTurn();
    assert.equal(deflateStats().streams, base);
  });
});
