/**
 * Local epochs against a fake link: publishes while Redis is away reach this node only, in an
 * epoch of its own; refusing instead; and the announcement of each topic's gap once Redis is back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicMessage } from '../../src/pubsub/message.js';
import { RealtimeError } from '../../src/pubsub/realtime-error.js';
import { Feeds } from '../../src/redis/feeds.js';
import { LocalEpochs } from '../../src/redis/local-epochs.js';
import { fakeContext, settle } from './fake-link.js';

const LIMITS = { maxCount: 100, maxAge: 60_000 };

function rig(refuse = false): ReturnType<typeof fakeContext> & { feeds: Feeds; local: LocalEpochs } {
  const context = fakeContext();
  const feeds = new Feeds(context.ctx);
  return { ...context, feeds, local: new LocalEpochs(context.ctx, feeds, refuse) };
}

void describe('LocalEpochs', () => {
  void test('a local publish reaches this node\'s engines in an epoch of its own, resumable here', () => {
    const { local, node, ctx, logs } = rig();
    const first = local.publish(new TopicMessage('room', 'a'), LIMITS, undefined);
    const second = local.publish(new TopicMessage('room', 'b'), LIMITS, new Error('READONLY'));
    assert.match(first.epoch, /^L/, "'L' marks an epoch no other node shares");
    assert.equal(second.epoch, first.epoch);
    assert.deepEqual([first.offset, second.offset], [1, 2]);
    assert.equal(first.delivery?.delivered, 1);
    assert.deepEqual(node.data, ['a', 'b']);
    assert.equal(ctx.counters.publishedLocally, 2);
    assert.equal(logs.filter((l) => l.includes('publishing locally while Redis is unreachable')).length, 1, 'said once per topic');
    assert.ok(logs.some((l) => l.includes('publish through Redis failed: delivered on this node only')));
    const resumed = local.since('room', { epoch: first.epoch, offset: 1 }, LIMITS);
    assert.equal(resumed.recovered && resumed.messages.map((m) => m.string).join(), 'b');
    assert.equal(local.history('room', LIMITS).position().offset, 2);
  });

  void test('the topic\'s subscribers are marked, so Redis coming back reports the gap to them', () => {
    const { local, feeds, node } = rig();
    feeds.watch('room', true);
    local.history('room', LIMITS);
    feeds.resume();
    assert.deepEqual(node.gaps, ['room']);
  });

  void test('refusing: UNAVAILABLE, counted, nothing delivered', () => {
    const { local, node, ctx } = rig(true);
    assert.equal(local.refuses, true);
    assert.throws(() => local.publish(new TopicMessage('room', 'a'), LIMITS, undefined), (e: unknown) => e instanceof RealtimeError && e.code === 'UNAVAILABLE');
    assert.equal(ctx.counters.refused, 1);
    assert.deepEqual(node.data, []);
  });

  void test('clear ends the local epochs: the next one is another', () => {
    const { local } = rig();
    const before = local.history('room', LIMITS).epoch;
    local.clear();
    assert.notEqual(local.history('room', LIMITS).epoch, before);
  });

  void test('announce: a new epoch in Redis per topic published to locally; a failure or a racing publish keeps it for next time', async () => {
    const { local, link, ctx } = rig();
    local.publish(new TopicMessage('a', '1'), LIMITS, undefined);
    local.publish(new TopicMessage('b', '1'), LIMITS, undefined);
    let closed = false;
    const first = local.announce(() => closed);
    assert.equal(link.runs.length, 1, 'one topic at a time');
    const reset = link.runs[0]!;
    assert.equal(reset.script, ctx.scripts.reset);
    assert.deepEqual(reset.keys, [ctx.keys.meta('a'), ctx.keys.history('a')]);
    assert.deepEqual(reset.args.slice(2), [ctx.keys.channel('a'), 'n1']);
    // A local publish to 'a' while its announcement is in flight.
    local.publish(new TopicMessage('a', '2'), LIMITS, undefined);
    reset.resolve('NEW');
    await settle();
    link.runs[1]!.reject(new Error('timeout'));
    await first;
    assert.equal(ctx.counters.gapsAnnounced, 1);
    // Next recovery: 'a' (raced) and 'b' (failed) again.
    const second = local.announce(() => closed);
    assert.deepEqual(link.runs[2]!.keys[0], ctx.keys.meta('a'));
    link.runs[2]!.resolve('NEWER');
    await settle();
    assert.deepEqual(link.runs[3]!.keys[0], ctx.keys.meta('b'));
    link.runs[3]!.resolve('NEWEST');
    await second;
    assert.equal(ctx.counters.gapsAnnounced, 3);
    await local.announce(() => closed);
    assert.equal(link.runs.length, 4, 'nothing left to announce');
    // Unhealthy or closed: nothing is tried.
    local.publish(new TopicMessage('c', '1'), LIMITS, undefined);
    link.healthy = false;
    await local.announce(() => closed);
    link.healthy = true;
    closed = true;
    await local.announce(() => closed);
    assert.equal(link.runs.length, 4);
  });
});
