/**
 * Coalesced history reads against a fake link: the requests of one turn share one read, from the
 * lowest offset of the epoch most of them resume from; a request made while a read runs waits for
 * the next; a read waits for the topic's SUBSCRIBE.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Recovery } from '../../src/pubsub/history.js';
import { Feeds } from '../../src/redis/feeds.js';
import { HistoryReads } from '../../src/redis/history-reads.js';
import { fakeContext, messageEntry, settle } from './fake-link.js';

const TOPIC = 'room';
const LIMITS = { maxCount: 100, maxAge: 60_000 };

function rig(): ReturnType<typeof fakeContext> & { feeds: Feeds; reads: HistoryReads } {
  const context = fakeContext();
  const feeds = new Feeds(context.ctx);
  return { ...context, feeds, reads: new HistoryReads(context.ctx, feeds) };
}

/** A RANGE reply: position E/`offset` at time `now`, with the entries `from`..`offset`. */
function range(offset: number, from: number, now = 2000): unknown {
  const entries = [];
  for (let i = from; i <= offset; i++) entries.push(messageEntry(TOPIC, 'E', i, `m${i}`));
  return [Buffer.from('E'), Buffer.from(String(offset)), Buffer.from(String(now)), entries];
}

function summary(r: Recovery): string {
  return r.recovered ? `recovered ${r.messages.map((m) => m.offset).join(',')}` : `not recovered at ${r.position.epoch}/${r.position.offset}`;
}

void describe('HistoryReads', () => {
  void test('the requests of one turn share one read, each answered for its own position', async () => {
    const { reads, link, ctx } = rig();
    const answers = Promise.all([
      reads.read(TOPIC, LIMITS, { epoch: 'E', offset: 5 }),
      reads.read(TOPIC, LIMITS, { epoch: 'E', offset: 3 }),
      reads.read(TOPIC, LIMITS, { epoch: 'OLD', offset: 1 }),
      reads.read(TOPIC, LIMITS, undefined),
    ]);
    await settle();
    assert.equal(link.runs.length, 1);
    const run = link.runs[0]!;
    assert.equal(run.script, ctx.scripts.range);
    assert.deepEqual(run.args.slice(2), ['E', '3'], 'from the lowest offset of the epoch most resume from');
    run.resolve(range(6, 4));
    const [a, b, c, d] = await answers;
    assert.equal(summary(a), 'recovered 6');
    assert.equal(summary(b), 'recovered 4,5,6');
    assert.equal(summary(c), 'not recovered at E/6');
    assert.equal(summary(d), 'not recovered at E/6');
    assert.equal(a.recovered && b.recovered && a.messages[0] === b.messages[2], true, 'one message object per entry, shared');
    assert.equal(ctx.counters.historyReads, 1);
    assert.equal(ctx.counters.historyReadsShared, 3);
  });

  void test('a request made while a read runs waits for the next read', async () => {
    const { reads, link } = rig();
    const first = reads.read(TOPIC, LIMITS, undefined);
    await settle();
    const second = reads.read(TOPIC, LIMITS, { epoch: 'E', offset: 0 });
    await settle();
    assert.equal(link.runs.length, 1, 'the second does not share the read in flight');
    link.runs[0]!.resolve(range(1, 1));
    assert.equal((await first).position.offset, 1);
    await settle();
    assert.equal(link.runs.length, 2);
    assert.deepEqual(link.runs[1]!.args.slice(2), ['E', '0']);
    link.runs[1]!.resolve(range(2, 1));
    assert.equal(summary(await second), 'recovered 1,2');
  });

  void test('history too old or cut short is not recovered', async () => {
    const { reads, link } = rig();
    const old = reads.read(TOPIC, { maxCount: 100, maxAge: 10 }, { epoch: 'E', offset: 2 });
    await settle();
    // Entry 3 was written at 1003, "now" is 2000: older than maxAge 10.
    link.runs[0]!.resolve(range(4, 3));
    assert.equal(summary(await old), 'not recovered at E/4');
    const cut = reads.read(TOPIC, LIMITS, { epoch: 'E', offset: 1 });
    await settle();
    link.runs[1]!.resolve(range(4, 3));
    assert.equal(summary(await cut), 'not recovered at E/4', 'entry 2 is gone');
  });

  void test('a failed read fails every request that shared it', async () => {
    const { reads, link } = rig();
    const both = [reads.read(TOPIC, LIMITS, undefined), reads.read(TOPIC, LIMITS, undefined)];
    await settle();
    link.runs[0]!.reject(new Error('NOSCRIPT and worse'));
    for (const p of both) await assert.rejects(p, /NOSCRIPT and worse/);
  });

  void test('waits for the topic\'s SUBSCRIBE, then positions a feed that has not seen a message', async () => {
    const { reads, link, feeds } = rig();
    let confirm = (): void => {};
    link.subscribeResult = () => new Promise<void>((resolve) => { confirm = resolve; });
    feeds.watch(TOPIC, true);
    const read = reads.read(TOPIC, LIMITS, undefined);
    await settle();
    await settle();
    assert.equal(link.runs.length, 0, 'no read before the SUBSCRIBE is confirmed');
    confirm();
    await settle();
    assert.equal(link.runs.length, 1);
    link.runs[0]!.resolve(range(7, 7));
    await read;
    assert.deepEqual([feeds.get(TOPIC)!.epoch, feeds.get(TOPIC)!.last], ['E', 7]);
  });
});
