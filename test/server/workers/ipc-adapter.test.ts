/**
 * The workers' IPC adapter coalescing subscribes: the calls of one turn go to the primary in one
 * IPC message and come back in one, each caller still getting its own answer, and a subscribe's
 * offset baseline staying exact relative to publishes made in the same turn. Messages are
 * counted on links that copy each one (structuredClone) and deliver it on a later turn, as
 * node:cluster's 'advanced' IPC does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { PubSub, RealtimeError } from '../../../src/index.js';
import { IpcAdapter } from '../../../src/server/workers/ipc-adapter.js';
import type { SequencerMessage, WorkerRequest } from '../../../src/server/workers/ipc-messages.js';
import { Sequencer } from '../../../src/server/workers/sequencer.js';
import { FakeSubscriber } from '../../pubsub/fakes.js';

const LIMITS = { maxCount: 100, maxAge: 60_000 };

/** A worker whose IPC messages, both ways, are recorded. */
interface CountedWorker {
  adapter: IpcAdapter;
  engine: PubSub;
  /** Messages the worker sent the primary. */
  sent: WorkerRequest[];
  /** Messages the primary sent the worker. */
  received: SequencerMessage[];
  cut(): void;
}

function worker(sequencer: Sequencer, id: number): CountedWorker {
  let open = true;
  const sent: WorkerRequest[] = [];
  const received: SequencerMessage[] = [];
  const adapter: IpcAdapter = new IpcAdapter({
    send: (request: WorkerRequest) => {
      sent.push(request);
      const copy = structuredClone(request);
      setImmediate(() => sequencer.handle(id, copy));
    },
    connected: () => open,
  });
  sequencer.add(id, (message: SequencerMessage) => {
    received.push(message);
    const copy = structuredClone(message);
    setImmediate(() => adapter.receive(copy));
  });
  return { adapter, engine: new PubSub({ adapter, history: LIMITS }), sent, received, cut: () => { open = false; } };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await turn();
}

/** The calls a message carries (a batch's, or the one). */
function calls(request: WorkerRequest): string[] {
  return request.t === 'batch' ? request.calls.map((c) => c.t) : [request.t];
}

void test('N subscribes in one turn go to the primary in one IPC message and come back in one', async () => {
  const N = 50;
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const subscribers = Array.from({ length: N }, () => new FakeSubscriber());
  // Every subscribe of this turn: one topic for all, so one watch and N positions.
  const subscriptions = subscribers.map((s) => a.engine.subscribe(s, 'room'));
  assert.equal(a.sent.length, 0, 'nothing leaves before the I/O phase ends');
  await Promise.all(subscriptions.map((s) => Promise.resolve(s.ready)));
  assert.equal(a.sent.length, 1, 'one IPC message to the primary');
  assert.equal(a.sent[0]!.t, 'batch');
  assert.deepEqual(calls(a.sent[0]!), ['watch', ...Array<string>(N).fill('position')], 'the watch first, then every position, in call order');
  assert.equal(a.received.length, 1, 'one IPC message back');
  const back = a.received[0]!;
  assert.ok(back.t === 'batch');
  assert.equal(back.events.length, N);
  assert.ok(back.events.every((e) => e.t === 'reply'));
  // Each caller got its own answer: a publish from another worker reaches every one of them once.
  const b = worker(sequencer, 2);
  assert.equal((await b.engine.publish('room', 'hello')).offset, 1);
  await settle();
  for (const s of subscribers) assert.deepEqual(s.messages().map((m) => [m.offset, m.data]), [[1, 'hello']]);
  sequencer.close();
});

void test('subscribes to N topics, and then the last unsubscribes from them, each take one message', async () => {
  const N = 20;
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const subscriber = new FakeSubscriber();
  const topics = Array.from({ length: N }, (_, i) => `t${i}`);
  const subscriptions = topics.map((topic) => a.engine.subscribe(subscriber, topic));
  await Promise.all(subscriptions.map((s) => Promise.resolve(s.ready)));
  assert.equal(a.sent.length, 1);
  assert.equal(calls(a.sent[0]!).length, 2 * N, 'a watch and a position per topic');
  a.engine.unsubscribeAll(subscriber);
  await settle();
  assert.equal(a.sent.length, 2, 'the unsubscribes of one turn: one more message');
  assert.deepEqual(calls(a.sent[1]!), Array<string>(N).fill('watch'));
  // Unwatched: a publish elsewhere sends this worker nothing.
  const before = a.received.length;
  const b = worker(sequencer, 2);
  await b.engine.publish('t0', 'x');
  await settle();
  assert.equal(a.received.length, before);
  sequencer.close();
});

void test('a publish in the same turn sends the queued subscribes first: baselines are as if unbatched', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  // Subscribe, then publish, in one turn: the subscriber's baseline is before the message, so it gets it.
  const early = new FakeSubscriber();
  const sub = a.engine.subscribe(early, 'news');
  const first = a.engine.publish('news', 'first');
  assert.deepEqual(a.sent.map(calls), [['watch', 'position'], ['publish']], 'the queue went before the publish');
  await sub.ready;
  assert.equal((await first).offset, 1);
  // Publish, then subscribe, in one turn: the baseline is after it, so it is not delivered again.
  const late = new FakeSubscriber();
  const second = a.engine.publish('news', 'second');
  const lateSub = a.engine.subscribe(late, 'news');
  await lateSub.ready;
  assert.equal((await second).offset, 2);
  const third = await a.engine.publish('news', 'third');
  await settle();
  assert.deepEqual(early.messages().map((m) => m.offset), [1, 2, 3]);
  assert.deepEqual(late.messages().map((m) => m.offset), [third.offset], 'only what was published after its subscribe');
  sequencer.close();
});

void test('subscribes queued when the primary goes away fail with UNAVAILABLE and send nothing', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const positions = [a.adapter.position('x', LIMITS), a.adapter.position('y', LIMITS)];
  a.cut();
  for (const p of positions) await assert.rejects(p, (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE');
  assert.equal(a.sent.length, 0);
  // And queued ones when the channel closes (disconnected) are failed at once.
  const b = worker(sequencer, 2);
  const pending = b.adapter.since('x', { epoch: 'e', offset: 0 }, LIMITS);
  b.adapter.disconnected();
  await assert.rejects(pending, (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE');
  await settle();
  assert.equal(b.sent.length, 0);
  sequencer.close();
});
