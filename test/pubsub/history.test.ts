import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HISTORY_LIMITS, TopicHistory, newEpoch, resolveHistoryLimits } from '../../src/pubsub/history.js';
import { TopicMessage } from '../../src/pubsub/message.js';

function fill(h: TopicHistory, n: number, now: number | ((i: number) => number) = 0): TopicMessage[] {
  const out: TopicMessage[] = [];
  for (let i = 0; i < n; i++) {
    const m = new TopicMessage('t', i);
    h.append(m, typeof now === 'function' ? now(i) : now);
    out.push(m);
  }
  return out;
}

function offsets(r: ReturnType<TopicHistory['since']>): number[] | false {
  return r.recovered ? r.messages.map((m) => m.offset) : false;
}

void describe('TopicHistory', () => {
  void test('offsets start at 1 and grow by one; every message gets the epoch and the time', () => {
    const h = new TopicHistory({ maxCount: 10, maxAge: 1000 }, 'E1');
    assert.deepEqual(h.position(), { epoch: 'E1', offset: 0 });
    const ms = fill(h, 3, 5);
    assert.deepEqual(ms.map((m) => [m.epoch, m.offset, m.time]), [['E1', 1, 5], ['E1', 2, 5], ['E1', 3, 5]]);
    assert.deepEqual(h.position(), { epoch: 'E1', offset: 3 });
  });

  void test('since returns exactly the messages after the offset, in order', () => {
    const h = new TopicHistory({ maxCount: 100, maxAge: 1000 }, 'E');
    fill(h, 10);
    assert.deepEqual(offsets(h.since('E', 0, 0)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(offsets(h.since('E', 7, 0)), [8, 9, 10]);
    assert.deepEqual(offsets(h.since('E', 10, 0)), [], 'up to date: recovered with nothing missed');
  });

  void test('cannot recover: other epoch, future offset, negative or fractional offset', () => {
    const h = new TopicHistory({ maxCount: 100, maxAge: 1000 }, 'E');
    fill(h, 5);
    assert.equal(h.since('other', 3, 0).recovered, false);
    assert.equal(h.since('E', 6, 0).recovered, false);
    assert.equal(h.since('E', -1, 0).recovered, false);
    assert.equal(h.since('E', 1.5, 0).recovered, false);
    const r = h.since('other', 3, 0);
    assert.deepEqual(r.position, { epoch: 'E', offset: 5 }, 'the answer still says where the topic is');
  });

  void test('maxCount keeps the newest; recovery from before the oldest kept fails, from it succeeds', () => {
    const h = new TopicHistory({ maxCount: 5, maxAge: 1000 }, 'E');
    fill(h, 12);
    assert.equal(h.size, 5);
    assert.equal(h.oldest?.offset, 8);
    assert.equal(h.since('E', 6, 0).recovered, false, 'offset 7 is gone');
    assert.deepEqual(offsets(h.since('E', 7, 0)), [8, 9, 10, 11, 12]);
  });

  void test('maxAge drops old messages, on append and on since', () => {
    const h = new TopicHistory({ maxCount: 100, maxAge: 100 }, 'E');
    fill(h, 5, (i) => i * 30); // times 0, 30, 60, 90, 120
    // At the append of time 120 the cutoff is 20: the message of time 0 is gone.
    assert.equal(h.size, 4);
    assert.equal(h.oldest?.offset, 2);
    assert.equal(h.since('E', 0, 120).recovered, false);
    assert.deepEqual(offsets(h.since('E', 1, 120)), [2, 3, 4, 5]);
    assert.equal(h.since('E', 1, 200).recovered, false, 'later, more has aged out');
    assert.deepEqual(offsets(h.since('E', 4, 200)), [5]);
    h.trim(10_000);
    assert.equal(h.size, 0);
    assert.deepEqual(offsets(h.since('E', 5, 10_000)), [], 'still up to date with an empty history');
    assert.equal(h.since('E', 4, 10_000).recovered, false);
  });

  void test('maxCount 0 keeps nothing but offsets still advance', () => {
    const h = new TopicHistory({ maxCount: 0, maxAge: 1000 }, 'E');
    fill(h, 3);
    assert.equal(h.size, 0);
    assert.deepEqual(h.position(), { epoch: 'E', offset: 3 });
    assert.deepEqual(offsets(h.since('E', 3, 0)), []);
    assert.equal(h.since('E', 2, 0).recovered, false);
  });

  void test('long runs stay exact through compaction (10,000 appends, window of 100)', () => {
    const h = new TopicHistory({ maxCount: 100, maxAge: 1e9 }, 'E');
    for (let i = 1; i <= 10_000; i++) {
      h.append(new TopicMessage('t', i), 0);
      if (i % 997 === 0) {
        const from = Math.max(0, i - 100);
        const r = h.since('E', from, 0);
        assert.ok(r.recovered);
        assert.deepEqual(r.messages.map((m) => m.data), Array.from({ length: i - from }, (_, k) => from + k + 1));
      }
    }
    assert.equal(h.size, 100);
  });

  void test('epochs are random, URL-safe and short; limits are validated', () => {
    const a = newEpoch();
    assert.match(a, /^[A-Za-z0-9_-]{12}$/);
    assert.notEqual(a, newEpoch());
    assert.notEqual(new TopicHistory(DEFAULT_HISTORY_LIMITS).epoch, new TopicHistory(DEFAULT_HISTORY_LIMITS).epoch);
    assert.deepEqual(resolveHistoryLimits(undefined), { maxCount: 1000, maxAge: 300_000 });
    assert.deepEqual(resolveHistoryLimits({ maxCount: 5 }), { maxCount: 5, maxAge: 300_000 });
    assert.deepEqual(resolveHistoryLimits(false, { maxCount: 9, maxAge: 7 }), { maxCount: 0, maxAge: 7 });
    assert.throws(() => resolveHistoryLimits({ maxCount: -1 }), RangeError);
    assert.throws(() => resolveHistoryLimits({ maxCount: 1.5 }), RangeError);
    assert.throws(() => resolveHistoryLimits({ maxAge: Number.NaN }), RangeError);
  });
});
