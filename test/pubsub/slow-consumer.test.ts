import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SlowConsumerGate, resolveSlowConsumer, DEFAULT_MAX_QUEUED_BYTES, type GateHooks } from '../../src/pubsub/slow-consumer.js';
import { TopicMessage } from '../../src/pubsub/message.js';
import type { Subscriber } from '../../src/pubsub/subscriber.js';
import { FakeSubscriber } from './fakes.js';

function recorder(): GateHooks & { sent: Array<[string, unknown, boolean]>; closedLog: string[]; heldLog: string[] } {
  const sent: Array<[string, unknown, boolean]> = [];
  const closed: string[] = [];
  const held: string[] = [];
  return {
    sent,
    closedLog: closed,
    heldLog: held,
    send: (sub: Subscriber, m: TopicMessage, conflated: boolean) => sent.push([sub.id, m.data, conflated]),
    close: (sub: Subscriber) => closed.push(sub.id),
    held: (sub: Subscriber) => held.push(sub.id),
  };
}

let offset = 0;
const msg = (data: unknown, key?: string): TopicMessage => {
  const m = new TopicMessage('t', data, { key });
  m.offset = ++offset;
  return m;
};

void describe('slow-consumer policies', () => {
  void test('under the cap everything is sent, whatever the policy', () => {
    for (const policy of ['drop', 'conflate', 'close'] as const) {
      const hooks = recorder();
      const gate = new SlowConsumerGate(policy, 100, hooks);
      const sub = new FakeSubscriber(true, 's');
      sub.bufferedAmount = 99;
      assert.equal(gate.offer(sub, msg(1)), 'sent');
      assert.deepEqual(hooks.sent, [['s', 1, false]]);
      assert.deepEqual(gate.counts, { dropped: 0, conflated: 0, closed: 0 });
    }
  });

  void test('drop: at or over the cap the delivery is skipped and counted; below it delivery resumes', () => {
    const hooks = recorder();
    const gate = new SlowConsumerGate('drop', 100, hooks);
    const sub = new FakeSubscriber(true, 's');
    sub.bufferedAmount = 100;
    assert.equal(gate.offer(sub, msg('a')), 'dropped');
    assert.equal(gate.offer(sub, msg('b')), 'dropped');
    sub.bufferedAmount = 0;
    assert.equal(gate.offer(sub, msg('c')), 'sent');
    assert.deepEqual(hooks.sent.map((s) => s[1]), ['c']);
    assert.equal(gate.counts.dropped, 2);
  });

  void test('close: the subscriber is closed through the hook and counted', () => {
    const hooks = recorder();
    const gate = new SlowConsumerGate('close', 100, hooks);
    const sub = new FakeSubscriber(true, 's');
    sub.bufferedAmount = 1000;
    assert.equal(gate.offer(sub, msg('a')), 'closed');
    assert.deepEqual(hooks.closedLog, ['s']);
    assert.equal(gate.counts.closed, 1);
    assert.equal(hooks.sent.length, 0);
  });

  void test('conflate: only the latest per key is held, and delivered in arrival order once drained', () => {
    const hooks = recorder();
    const gate = new SlowConsumerGate('conflate', 100, hooks);
    const sub = new FakeSubscriber(true, 's');
    sub.bufferedAmount = 500;
    assert.equal(gate.offer(sub, msg('a1', 'a')), 'held');
    assert.deepEqual(hooks.heldLog, ['s'], 'the engine is asked to watch for the drain');
    assert.equal(gate.offer(sub, msg('b1', 'b')), 'held');
    assert.equal(gate.offer(sub, msg('a2', 'a')), 'held');
    assert.equal(gate.offer(sub, msg('n1')), 'held');
    assert.equal(gate.offer(sub, msg('n2')), 'held', 'messages without a key share one slot');
    assert.equal(gate.isHolding(sub), true);
    assert.equal(gate.heldSubscribers, 1);
    assert.equal(gate.counts.conflated, 2);
    assert.equal(gate.flush(sub), false, 'still over the cap');
    sub.bufferedAmount = 0;
    assert.equal(gate.flush(sub), true);
    assert.deepEqual(hooks.sent, [['s', 'b1', true], ['s', 'a2', true], ['s', 'n2', true]]);
    assert.equal(gate.isHolding(sub), false);
  });

  void test('conflate: a message arriving after the subscriber drained flushes the held ones first', () => {
    const hooks = recorder();
    const gate = new SlowConsumerGate('conflate', 100, hooks);
    const sub = new FakeSubscriber(true, 's');
    sub.bufferedAmount = 500;
    gate.offer(sub, msg('x1', 'x'));
    gate.offer(sub, msg('y1', 'y'));
    sub.bufferedAmount = 0;
    assert.equal(gate.offer(sub, msg('z1', 'z')), 'sent');
    assert.deepEqual(hooks.sent, [['s', 'x1', false], ['s', 'y1', false], ['s', 'z1', false]], 'nothing was replaced: no conflated flag');
  });

  void test('flushDrained flushes every drained subscriber and counts the rest; remove forgets', () => {
    const hooks = recorder();
    const gate = new SlowConsumerGate('conflate', 100, hooks);
    const a = new FakeSubscriber(true, 'a');
    const b = new FakeSubscriber(true, 'b');
    a.bufferedAmount = b.bufferedAmount = 500;
    gate.offer(a, msg(1, 'k'));
    gate.offer(b, msg(2, 'k'));
    a.bufferedAmount = 0;
    assert.equal(gate.flushDrained(), 1);
    assert.deepEqual(hooks.sent, [['a', 1, false]]);
    gate.remove(b);
    assert.equal(gate.flushDrained(), 0);
    assert.equal(hooks.sent.length, 1);
  });

  void test('options are validated', () => {
    assert.deepEqual(resolveSlowConsumer(undefined, undefined), { policy: 'drop', maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES });
    assert.equal(DEFAULT_MAX_QUEUED_BYTES, 1024 * 1024);
    assert.throws(() => resolveSlowConsumer('lose', undefined), TypeError);
    assert.throws(() => resolveSlowConsumer('drop', 0), RangeError);
    assert.throws(() => resolveSlowConsumer('drop', '10'), RangeError);
  });
});
