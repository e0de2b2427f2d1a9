import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PubSub, type PublishResult, type SubscribeState } from '../../src/pubsub/pubsub.js';
import { InMemoryAdapter } from '../../src/pubsub/adapter.js';
import { InvalidStateError, ParleyError } from '../../src/protocol/errors.js';
import { isPromise, type MaybePromise } from '../../src/pubsub/maybe-async.js';
import { defaultFrameEncoder } from '../../src/protocol/prepared-frame.js';
import { FakeSubscriber } from './fakes.js';

/** The in-memory path answers synchronously: these unwrap without awaiting. */
function now<T>(value: MaybePromise<T>): T {
  assert.ok(!isPromise(value), 'the in-memory path must not return a promise');
  return value;
}

function engine(options: ConstructorParameters<typeof PubSub>[0] = {}): PubSub {
  return new PubSub(options);
}

void describe('PubSub: publish and fan-out', () => {
  void test('a message is framed once per kind: the same frame object for every subscriber of a kind', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    const v1 = [new FakeSubscriber(true), new FakeSubscriber(true), new FakeSubscriber(true)];
    const plain = [new FakeSubscriber(false), new FakeSubscriber(false)];
    for (const s of [...v1, ...plain]) ps.subscribe(s, 'room');
    const r = now(ps.publish('room', { price: 10 }));
    assert.deepEqual(r, { status: 'ok', offset: 1, delivered: 5 });
    const envFrame = v1[0]!.frames[0]!;
    const rawFrame = plain[0]!.frames[0]!;
    for (const s of v1) assert.equal(s.frames[0], envFrame, 'v1 subscribers share one encoded envelope');
    for (const s of plain) assert.equal(s.frames[0], rawFrame, 'plain subscribers share one encoded frame');
    assert.deepEqual(v1[0]!.messages()[0], { t: 'msg', topic: 'room', epoch: v1[0]!.messages()[0]!.epoch, offset: 1, data: { price: 10 } });
    assert.equal(plain[0]!.texts()[0], '{"price":10}', 'plain subscribers get the data itself');
  });

  void test('frames come from the encoder passed in: one encoding per kind of subscriber, whatever their number', (t) => {
    const made: boolean[] = [];
    const ps = engine({ encoder: { prepare: (data, binary) => (made.push(binary), defaultFrameEncoder.prepare(data, binary)) } });
    t.after(() => ps.close());
    const subs = [new FakeSubscriber(true), new FakeSubscriber(true), new FakeSubscriber(false), new FakeSubscriber(false)];
    for (const s of subs) ps.subscribe(s, 'room');
    now(ps.publish('room', 'hi'));
    assert.equal(made.length, 2, 'one envelope and one raw frame');
    now(ps.publish('room', new Uint8Array([1])));
    assert.deepEqual(made.slice(2), [true, true], 'bytes: a binary envelope and a binary raw frame');
    for (const s of subs) assert.equal(s.frames.length, 2);
  });

  void test('a publish after close() is misuse: InvalidStateError ERR_PUBSUB_CLOSED, not a TypeError', () => {
    const ps = engine();
    ps.close();
    assert.throws(() => ps.publish('room', 1), (e: unknown) => e instanceof InvalidStateError && e instanceof ParleyError && e.code === 'ERR_PUBSUB_CLOSED' && !(e instanceof TypeError));
  });

  void test('strings, bytes and JSON: raw frames keep the type; envelopes carry bytes as binary envelopes', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    const v1 = new FakeSubscriber(true);
    const plain = new FakeSubscriber(false);
    ps.subscribe(v1, 'x');
    ps.subscribe(plain, 'x');
    now(ps.publish('x', 'hello'));
    now(ps.publish('x', Buffer.from([1, 2, 3])));
    now(ps.publish('x', 'as binary', { binary: true }));
    now(ps.publish('x', [1, 'two']));
    assert.deepEqual(plain.frames.map((f) => [f.binary, String.fromCharCode(...f.payload)]), [
      [false, 'hello'],
      [true, '\x01\x02\x03'],
      [true, 'as binary'],
      [false, '[1,"two"]'],
    ]);
    const msgs = v1.messages();
    assert.equal(msgs[0]!.data, 'hello');
    assert.deepEqual([...(msgs[1]!.data as Uint8Array)], [1, 2, 3]);
    assert.equal(v1.frames[1]!.binary, true);
    assert.equal(msgs[2]!.data, 'as binary', 'binary only shapes plain frames');
    assert.deepEqual(msgs[3]!.data, [1, 'two']);
    assert.deepEqual(msgs.map((m) => m.offset), [1, 2, 3, 4]);
  });

  void test('offsets are per topic; nobody subscribed still advances history', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    assert.deepEqual(now(ps.publish('a', 1)), { status: 'ok', offset: 1, delivered: 0 });
    assert.equal(now(ps.publish('a', 2)).offset, 2);
    assert.equal(now(ps.publish('b', 1)).offset, 1);
    assert.equal(now(ps.position('a')).offset, 2);
  });

  void test('except skips a plain sender but never a parley.v1 one (its offsets must stay contiguous)', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    const plainSender = new FakeSubscriber(false);
    const v1Sender = new FakeSubscriber(true);
    const other = new FakeSubscriber(false);
    for (const s of [plainSender, v1Sender, other]) ps.subscribe(s, 'x');
    assert.equal(now(ps.publish('x', 'a', { except: plainSender })).delivered, 2);
    assert.equal(plainSender.frames.length, 0);
    assert.equal(now(ps.publish('x', 'b', { except: v1Sender })).delivered, 3);
    assert.equal(v1Sender.frames.length, 2);
  });

  void test('invalid topics and data are TypeErrors; unsubscribe stops delivery', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    const s = new FakeSubscriber();
    assert.throws(() => ps.subscribe(s, 'bad topic'), TypeError);
    assert.throws(() => ps.publish('', 1), TypeError);
    assert.throws(() => ps.publish('x'.repeat(201), 1), TypeError);
    assert.throws(() => ps.publish('x', 10n), TypeError);
    assert.throws(() => ps.publish('x', undefined), TypeError);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    assert.throws(() => ps.publish('x', cyclic), TypeError);
    assert.equal(ps.subscribe(s, 'x').added, true);
    assert.equal(ps.subscribe(s, 'x').added, false);
    assert.deepEqual(ps.topicsOf(s), ['x']);
    assert.equal(ps.unsubscribe(s, 'x'), true);
    assert.equal(ps.unsubscribe(s, 'x'), false);
    now(ps.publish('x', 1));
    assert.equal(s.frames.length, 0);
    assert.equal(ps.subscriberCount('x'), 0);
  });

  void test('unsubscribeAll leaves every topic', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    const s = new FakeSubscriber();
    for (const topic of ['a', 'b', 'c']) ps.subscribe(s, topic);
    assert.equal(ps.subscriptionCount(s), 3);
    ps.unsubscribeAll(s);
    assert.equal(ps.subscriptionCount(s), 0);
    assert.deepEqual(['a', 'b', 'c'].map((x) => ps.subscriberCount(x)), [0, 0, 0]);
  });
});

void describe('PubSub: slow-consumer policies per topic', () => {
  void test('drop: the slow subscriber misses, the others get it; status dropped; counts', (t) => {
    const ps = engine({ topics: () => ({ policy: 'drop', maxQueuedBytes: 1000 }) });
    t.after(() => ps.close());
    const fast = new FakeSubscriber();
    const slow = new FakeSubscriber();
    ps.subscribe(fast, 'x');
    ps.subscribe(slow, 'x');
    slow.bufferedAmount = 5000;
    const r: PublishResult = now(ps.publish('x', 1));
    assert.deepEqual(r, { status: 'dropped', offset: 1, delivered: 1 });
    assert.equal(fast.frames.length, 1);
    assert.equal(slow.frames.length, 0);
    const stats = ps.topicStats('x');
    assert.equal(stats.dropped, 1);
    assert.equal(stats.policy, 'drop');
    assert.equal(stats.maxQueuedBytes, 1000);
  });

  void test('close: the slow subscriber is closed with 1008 and unsubscribed everywhere', (t) => {
    const ps = engine({ topics: (topic) => (topic === 'strict' ? { policy: 'close', maxQueuedBytes: 10 } : undefined) });
    t.after(() => ps.close());
    const slow = new FakeSubscriber();
    ps.subscribe(slow, 'strict');
    ps.subscribe(slow, 'other');
    slow.bufferedAmount = 11;
    assert.equal(now(ps.publish('strict', 'x')).status, 'dropped');
    assert.deepEqual(slow.closedWith, { code: 1008, reason: 'slow consumer' });
    assert.equal(ps.subscriptionCount(slow), 0);
    assert.equal(ps.topicStats('strict').closed, 1);
  });

  void test('conflate: latest per key held while over the cap, sent with conflated:true once drained (drained())', (t) => {
    const ps = engine({ topics: () => ({ policy: 'conflate', maxQueuedBytes: 100 }) });
    t.after(() => ps.close());
    const fast = new FakeSubscriber();
    const slow = new FakeSubscriber();
    ps.subscribe(fast, 'prices');
    ps.subscribe(slow, 'prices');
    now(ps.publish('prices', { item: 'a', p: 1 }, { key: 'a' }));
    slow.bufferedAmount = 1000;
    assert.equal(now(ps.publish('prices', { item: 'a', p: 2 }, { key: 'a' })).status, 'backpressure');
    now(ps.publish('prices', { item: 'b', p: 1 }, { key: 'b' }));
    now(ps.publish('prices', { item: 'a', p: 3 }, { key: 'a' }));
    assert.equal(fast.frames.length, 4);
    assert.equal(slow.frames.length, 1);
    slow.bufferedAmount = 0;
    ps.drained(slow);
    const got = slow.messages();
    assert.deepEqual(got.map((m) => [m.offset, m.key, m.conflated]), [[1, 'a', undefined], [3, 'b', true], [4, 'a', true]]);
    assert.deepEqual(got[2]!.data, { item: 'a', p: 3 });
    assert.equal(ps.topicStats('prices').conflated, 1);
  });

  void test('conflate: a drain without an event is noticed by the poll', async (t) => {
    const ps = engine({ topics: () => ({ policy: 'conflate', maxQueuedBytes: 100 }), drainCheckInterval: 5 });
    t.after(() => ps.close());
    const slow = new FakeSubscriber(false);
    ps.subscribe(slow, 'x');
    slow.bufferedAmount = 1000;
    now(ps.publish('x', 'v1', { key: 'k' }));
    now(ps.publish('x', 'v2', { key: 'k' }));
    assert.equal(ps.topicStats('x').holding, 1);
    slow.bufferedAmount = 0;
    for (let i = 0; i < 100 && slow.frames.length === 0; i++) await sleep(5);
    assert.deepEqual(slow.texts(), ['v2']);
    assert.equal(ps.topicStats('x').holding, 0);
  });
});

void describe('PubSub: recovery', () => {
  void test('subscribe with since sends exactly the missed messages, then live ones', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    for (let i = 1; i <= 5; i++) now(ps.publish('x', i));
    const { epoch } = now(ps.position('x'));
    const s = new FakeSubscriber();
    const state: SubscribeState = now(ps.subscribe(s, 'x', { since: { epoch, offset: 2 } }).ready);
    assert.deepEqual(state, { epoch, offset: 5, recovered: true });
    now(ps.publish('x', 6));
    assert.deepEqual(s.messages().map((m) => [m.offset, m.data]), [[3, 3], [4, 4], [5, 5], [6, 6]]);
  });

  void test('cannot recover: recovered false and nothing old is sent', (t) => {
    const ps = engine({ history: { maxCount: 2 } });
    t.after(() => ps.close());
    for (let i = 1; i <= 5; i++) now(ps.publish('x', i));
    const { epoch } = now(ps.position('x'));
    const s = new FakeSubscriber();
    assert.equal(now(ps.subscribe(s, 'x', { since: { epoch, offset: 1 } }).ready).recovered, false);
    const s2 = new FakeSubscriber();
    assert.equal(now(ps.subscribe(s2, 'x', { since: { epoch: 'another', offset: 4 } }).ready).recovered, false);
    assert.equal(s.frames.length + s2.frames.length, 0);
  });

  void test('hold: messages published before activate are sent after the recovered ones, without duplicates', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    for (let i = 1; i <= 3; i++) now(ps.publish('x', i));
    const { epoch } = now(ps.position('x'));
    const s = new FakeSubscriber();
    const ticket = ps.subscribe(s, 'x', { since: { epoch, offset: 1 }, hold: true });
    assert.equal(now(ticket.ready).recovered, true);
    assert.equal(now(ps.publish('x', 4)).status, 'backpressure', 'held for the recovering subscriber');
    now(ps.publish('x', 5));
    assert.equal(s.frames.length, 0, 'nothing before activation (the caller sends subok first)');
    ps.activate(s, 'x');
    now(ps.publish('x', 6));
    assert.deepEqual(s.messages().map((m) => m.offset), [2, 3, 4, 5, 6]);
  });

  void test('re-subscribing with since re-synchronises an existing subscription', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    const s = new FakeSubscriber();
    ps.subscribe(s, 'x');
    for (let i = 1; i <= 4; i++) now(ps.publish('x', i));
    const { epoch } = now(ps.position('x'));
    const ticket = ps.subscribe(s, 'x', { since: { epoch, offset: 2 } });
    assert.equal(ticket.added, false);
    assert.deepEqual(s.messages().map((m) => m.offset), [1, 2, 3, 4, 3, 4]);
  });

  void test('re-synchronising a conflating subscriber forgets what conflation held (recovery covers it)', (t) => {
    const ps = engine({ topics: () => ({ policy: 'conflate', maxQueuedBytes: 10 }) });
    t.after(() => ps.close());
    const s = new FakeSubscriber();
    ps.subscribe(s, 'x');
    now(ps.publish('x', 1, { key: 'k' }));
    s.bufferedAmount = 100;
    now(ps.publish('x', 2, { key: 'k' }));
    now(ps.publish('x', 3, { key: 'k' }));
    s.bufferedAmount = 0;
    const { epoch } = now(ps.position('x'));
    ps.subscribe(s, 'x', { since: { epoch, offset: 1 } });
    ps.drained(s);
    now(ps.publish('x', 4, { key: 'k' }));
    assert.deepEqual(s.messages().map((m) => m.offset), [1, 2, 3, 4]);
  });

  void test('plain subscribers recover raw data too', (t) => {
    const ps = engine();
    t.after(() => ps.close());
    for (const v of ['a', 'b', 'c']) now(ps.publish('x', v));
    const { epoch } = now(ps.position('x'));
    const s = new FakeSubscriber(false);
    ps.subscribe(s, 'x', { since: { epoch, offset: 1 } });
    assert.deepEqual(s.texts(), ['b', 'c']);
  });
});

void describe('PubSub: presence', () => {
  void test('join/leave once per user across connections; pres envelopes go to v1 subscribers only', (t) => {
    const events: unknown[] = [];
    const ps = engine({ onPresence: (topic, event, member) => events.push([topic, event, member.user, member.conn]) });
    t.after(() => ps.close());
    const watcher = new FakeSubscriber(true, 'w');
    const plain = new FakeSubscriber(false, 'p');
    ps.subscribe(watcher, 'room');
    ps.subscribe(plain, 'room');
    const tab1 = new FakeSubscriber(true, 'tab1');
    const tab2 = new FakeSubscriber(true, 'tab2');
    ps.subscribe(tab1, 'room', { presence: { user: 'alice', info: { name: 'Alice' } } });
    ps.subscribe(tab2, 'room', { presence: { user: 'alice', info: { name: 'Alice' } } });
    assert.deepEqual(events, [['room', 'join', 'alice', 'tab1']]);
    assert.deepEqual(now(ps.members('room')), [{ user: 'alice', conn: 'tab1', info: { name: 'Alice' } }]);
    ps.unsubscribe(tab1, 'room');
    assert.equal(events.length, 1, 'one tab left: no leave');
    ps.unsubscribeAll(tab2);
    assert.deepEqual(events[1], ['room', 'leave', 'alice', 'tab2']);
    const pres = watcher.envelopesReceived().filter((e) => e.t === 'pres');
    assert.deepEqual(pres.map((e) => e.event), ['join', 'leave']);
    assert.equal(plain.frames.length, 0);
  });

  void test('a presence listener that throws is reported, not thrown', (t) => {
    const errors: unknown[] = [];
    const ps = engine({ onPresence: () => { throw new Error('app bug'); }, onError: (e) => errors.push(e) });
    t.after(() => ps.close());
    ps.subscribe(new FakeSubscriber(), 'r', { presence: { user: 'u' } });
    assert.equal(errors.length, 1);
  });
});

void describe('PubSub: several engines on one InMemoryAdapter (a cluster in one process)', () => {
  void test('one order and shared offsets; presence across nodes; recovery from either node', (t) => {
    const adapter = new InMemoryAdapter();
    const joins: string[] = [];
    const a = engine({ adapter, onPresence: (_t, e, m) => joins.push(`a:${e}:${m.user}`) });
    const b = engine({ adapter, onPresence: (_t, e, m) => joins.push(`b:${e}:${m.user}`) });
    t.after(() => { a.close(); b.close(); adapter.close(); });
    const onA = new FakeSubscriber();
    const onB = new FakeSubscriber();
    a.subscribe(onA, 'x', { presence: { user: 'ann' } });
    b.subscribe(onB, 'x', { presence: { user: 'ann' } });
    assert.deepEqual(joins, ['a:join:ann', 'b:join:ann'], 'first join in the cluster only, heard by both nodes');
    assert.equal(now(a.publish('x', 'from a')).delivered, 2);
    assert.equal(now(b.publish('x', 'from b')).offset, 2);
    for (const s of [onA, onB]) assert.deepEqual(s.messages().map((m) => [m.offset, m.data]), [[1, 'from a'], [2, 'from b']]);
    const { epoch } = now(b.position('x'));
    const late = new FakeSubscriber();
    a.subscribe(late, 'x', { since: { epoch, offset: 1 } });
    assert.deepEqual(late.messages().map((m) => m.data), ['from b']);
  });
});
