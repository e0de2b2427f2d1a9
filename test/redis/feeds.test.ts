/**
 * The adapter's watched topics and in-order delivery, against a fake link: subscriptions follow
 * interest, offsets are delivered once and in order, a jump is filled from history first, and
 * what cannot be filled is reported as a gap. The same paths on a real Redis are in
 * redis-adapter.test.ts and outage.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { TopicMessage } from '../../src/pubsub/message.js';
import { encodePresence } from '../../src/redis/codec.js';
import { Feeds } from '../../src/redis/feeds.js';
import { fakeContext, messageEntry, settle } from './fake-link.js';

const TOPIC = 'room';

function rig(): ReturnType<typeof fakeContext> & { feeds: Feeds; channel: string } {
  const context = fakeContext();
  const feeds = new Feeds(context.ctx);
  return { ...context, feeds, channel: context.ctx.keys.channel(TOPIC) };
}

void describe('Feeds', () => {
  void test('the first watcher subscribes the channel, the last one unsubscribes it', () => {
    const { feeds, link, channel } = rig();
    feeds.watch(TOPIC, true);
    feeds.watch(TOPIC, true);
    assert.deepEqual(link.subscribes, [channel]);
    assert.equal(feeds.size, 1);
    feeds.watch(TOPIC, false);
    assert.deepEqual(link.unsubscribes, []);
    feeds.watch(TOPIC, false);
    assert.deepEqual(link.unsubscribes, [channel]);
    assert.equal(feeds.size, 0);
    assert.equal(feeds.get(TOPIC), undefined);
    feeds.watch(TOPIC, false);
    assert.deepEqual(link.unsubscribes, [channel], 'an extra unwatch does nothing');
  });

  void test('delivers in order, drops a repeat, and hands back this node\'s own message object', () => {
    const { feeds, link, node, ctx, channel } = rig();
    feeds.watch(TOPIC, true);
    link.send(channel, messageEntry(TOPIC, 'E', 1, 'one'));
    const own = new TopicMessage(TOPIC, 'two');
    feeds.expect('n1:1', own);
    link.send(channel, messageEntry(TOPIC, 'E', 2, 'two', 'n1:1'));
    link.send(channel, messageEntry(TOPIC, 'E', 2, 'two', 'n1:1'));
    assert.deepEqual(node.data, ['one', 'two']);
    assert.equal(node.delivered[1], own, 'the published object itself (its frames, its except)');
    assert.deepEqual([own.epoch, own.offset], ['E', 2]);
    assert.equal(ctx.counters.delivered, 2);
    assert.equal(ctx.counters.duplicates, 1);
    assert.equal(link.runs.length, 0, 'no fill needed');
  });

  void test('a jump is filled from history before the entries that arrive meanwhile', async () => {
    const { feeds, link, node, ctx, channel } = rig();
    feeds.watch(TOPIC, true);
    link.send(channel, messageEntry(TOPIC, 'E', 1, 'm1'));
    link.send(channel, messageEntry(TOPIC, 'E', 4, 'm4'));
    link.send(channel, messageEntry(TOPIC, 'E', 5, 'm5'));
    assert.equal(link.runs.length, 1);
    const fill = link.runs[0]!;
    assert.equal(fill.script, ctx.scripts.since);
    assert.deepEqual(fill.args.slice(2, 4), ['E', '1'], 'from where the feed was');
    assert.deepEqual(node.data, ['m1'], 'nothing newer before the fill');
    fill.resolve([Buffer.from('E'), Buffer.from('4'), 1, [2, 3, 4].map((i) => messageEntry(TOPIC, 'E', i, `m${i}`))]);
    await settle();
    assert.deepEqual(node.data, ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.equal(ctx.counters.filled, 3);
    assert.equal(ctx.counters.duplicates, 1, 'm4 came live and from history: delivered once');
    assert.deepEqual(node.gaps, []);
  });

  void test('what history no longer has is a gap; delivery goes on from the position Redis gives', async () => {
    const { feeds, link, node, ctx, channel } = rig();
    feeds.watch(TOPIC, true);
    link.send(channel, messageEntry(TOPIC, 'E', 1, 'm1'));
    link.send(channel, messageEntry(TOPIC, 'E', 9, 'm9'));
    link.runs[0]!.resolve([Buffer.from('E'), Buffer.from('9'), 0]);
    await settle();
    assert.deepEqual(node.gaps, [TOPIC]);
    assert.equal(ctx.counters.gaps, 1);
    link.send(channel, messageEntry(TOPIC, 'E', 10, 'm10'));
    assert.deepEqual(node.data, ['m1', 'm10'], 'm9 was before the new position');
  });

  void test('a failed fill is a gap, and the feed starts over from the next entry', async () => {
    const { feeds, link, node, channel } = rig();
    feeds.watch(TOPIC, true);
    link.send(channel, messageEntry(TOPIC, 'E', 1, 'm1'));
    link.send(channel, messageEntry(TOPIC, 'E', 3, 'm3'));
    link.runs[0]!.reject(new Error('Redis went away'));
    await settle();
    assert.deepEqual(node.gaps, [TOPIC]);
    link.send(channel, messageEntry(TOPIC, 'E', 7, 'm7'));
    assert.deepEqual(node.data, ['m1', 'm7']);
  });

  void test('a gap entry from another node switches to the new epoch and tells the subscribers', () => {
    const { feeds, link, node, channel } = rig();
    feeds.watch(TOPIC, true);
    link.send(channel, messageEntry(TOPIC, 'E', 1, 'm1'));
    link.send(channel, 'g\nF\nn2');
    link.send(channel, 'g\nF\nn2');
    assert.deepEqual(node.gaps, [TOPIC], 'the same epoch twice: told once');
    link.send(channel, messageEntry(TOPIC, 'F', 1, 'f1'));
    assert.deepEqual(node.data, ['m1', 'f1']);
  });

  void test('presence entries go to the engines; an undecodable entry is counted, not thrown', () => {
    const { feeds, link, node, ctx, channel } = rig();
    feeds.watch(TOPIC, true);
    link.send(channel, encodePresence('join', { user: 'ann', conn: 'c1', info: null }));
    link.send(channel, 'nonsense');
    assert.deepEqual(node.presence, [`${TOPIC} join ann`]);
    assert.equal(ctx.counters.badEntries, 1);
  });

  void test('resume: subscribes again, reports topics that went local as gaps, and fills from where each was', () => {
    const { feeds, link, node, ctx } = rig();
    feeds.watch(TOPIC, true);
    feeds.watch('quiet', true);
    link.send(ctx.keys.channel(TOPIC), messageEntry(TOPIC, 'E', 1, 'm1'));
    feeds.markLocal(TOPIC);
    feeds.resume();
    assert.deepEqual(link.subscribes, [ctx.keys.channel(TOPIC), ctx.keys.channel('quiet'), ctx.keys.channel(TOPIC), ctx.keys.channel('quiet')]);
    assert.deepEqual(node.gaps, [TOPIC], 'only the topic that went local');
    assert.equal(link.runs.length, 1, 'a fill for the topic with a position; none for one that never had a message');
    assert.deepEqual(link.runs[0]!.args.slice(2, 4), ['E', '1']);
    feeds.resume();
    assert.equal(link.runs.length, 1, 'no second fill while one runs');
    assert.deepEqual(node.gaps, [TOPIC], 'the local use is reported once');
  });

  void test('clear forgets every feed and pending publish', () => {
    const { feeds, link, node, channel } = rig();
    feeds.watch(TOPIC, true);
    feeds.expect('n1:1', new TopicMessage(TOPIC, 'mine'));
    feeds.clear();
    assert.equal(feeds.size, 0);
    link.send(channel, messageEntry(TOPIC, 'E', 1, 'late', 'n1:1'));
    assert.deepEqual(node.data, [], 'an entry for a topic no longer watched is ignored');
  });
});
