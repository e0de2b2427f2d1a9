/**
 * The sequencer and the workers' IPC adapter in one process: two engines, each on its own
 * {@link IpcAdapter}, joined to one {@link Sequencer} by links that copy every message with
 * structuredClone and deliver it on a later turn, in order (what node:cluster's 'advanced' IPC
 * does). The real-process tests are in supervisor.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { PubSub, RealtimeError, TopicMessage } from '../../../src/index.js';
import { IpcAdapter } from '../../../src/server/workers/ipc-adapter.js';
import type { SequencerMessage, WorkerRequest } from '../../../src/server/workers/ipc-messages.js';
import { Sequencer } from '../../../src/server/workers/sequencer.js';
import { FakeSubscriber } from '../../pubsub/fakes.js';

const LIMITS = { maxCount: 100, maxAge: 60_000 };

/** A worker: an adapter linked to the sequencer, and an engine on it. */
function worker(sequencer: Sequencer, id: number): { adapter: IpcAdapter; engine: PubSub; cut(): void } {
  let open = true;
  const adapter: IpcAdapter = new IpcAdapter({
    send: (request: WorkerRequest) => {
      const copy = structuredClone(request);
      setImmediate(() => sequencer.handle(id, copy));
    },
    connected: () => open,
  });
  sequencer.add(id, (message: SequencerMessage) => {
    const copy = structuredClone(message);
    setImmediate(() => adapter.receive(copy));
  });
  const engine = new PubSub({ adapter, history: LIMITS });
  return { adapter, engine, cut: () => { open = false; adapter.disconnected(); } };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await turn();
}

void test('publishes from two workers get one sequence of offsets, and reach both in that order; bytes stay bytes', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const b = worker(sequencer, 2);
  const sa = new FakeSubscriber();
  const sb = new FakeSubscriber();
  await a.engine.subscribe(sa, 'room').ready;
  await b.engine.subscribe(sb, 'room').ready;
  await settle();
  const receipts = await Promise.all([
    a.engine.publish('room', 'one'),
    b.engine.publish('room', new Uint8Array([1, 2, 3])),
    a.engine.publish('room', { n: 3 }),
  ]);
  await settle();
  assert.deepEqual(receipts.map((r) => r.offset), [1, 2, 3]);
  for (const s of [sa, sb]) {
    const m = s.messages();
    assert.deepEqual(m.map((e) => e.offset), [1, 2, 3]);
    assert.equal(m[0]!.data, 'one');
    assert.deepEqual([...(m[1]!.data as Uint8Array)], [1, 2, 3]);
    assert.deepEqual(m[2]!.data, { n: 3 });
  }
  assert.equal(new Set([...sa.messages(), ...sb.messages()].map((e) => e.epoch)).size, 1, 'one epoch');
  sequencer.close();
});

void test('a subscriber on one worker recovers what was published on the other', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const b = worker(sequencer, 2);
  for (let i = 1; i <= 4; i++) await a.engine.publish('log', i);
  const position = await a.adapter.position('log', LIMITS);
  const recovery = await b.adapter.since('log', { epoch: position.epoch, offset: 1 }, LIMITS);
  assert.equal(recovery.recovered, true);
  assert.deepEqual(recovery.recovered ? recovery.messages.map((m) => [m.offset, m.data]) : [], [[2, 2], [3, 3], [4, 4]]);
  const lost = await b.adapter.since('log', { epoch: 'another-epoch', offset: 1 }, LIMITS);
  assert.equal(lost.recovered, false);
  sequencer.close();
});

void test('an idempotency key is applied once, whichever worker the repeat comes through', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const b = worker(sequencer, 2);
  const s = new FakeSubscriber();
  await b.engine.subscribe(s, 'orders').ready;
  await settle();
  const once = { key: 'u:alice:#7', ttl: 60_000 };
  const first = await a.adapter.publish(new TopicMessage('orders', 'buy'), LIMITS, once);
  const repeat = await b.adapter.publish(new TopicMessage('orders', 'buy'), LIMITS, once);
  const other = await b.adapter.publish(new TopicMessage('orders', 'sell'), LIMITS, { key: 'u:alice:#8', ttl: 60_000 });
  await settle();
  assert.deepEqual([first.offset, repeat.offset, other.offset], [1, 1, 2]);
  assert.equal(repeat.epoch, first.epoch);
  assert.deepEqual(s.messages().map((m) => m.data), ['buy', 'sell'], 'the repeat was not delivered again');
  sequencer.close();
});

void test('a worker that goes away leaves its presence and its topics', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  const b = worker(sequencer, 2);
  const events: string[] = [];
  const watcher = new PubSub({ adapter: b.adapter, onPresence: (topic, event, member) => events.push(`${event} ${member.user}`) });
  const sa = new FakeSubscriber();
  const sb = new FakeSubscriber();
  await watcher.subscribe(sb, 'lobby').ready;
  await a.engine.subscribe(sa, 'lobby', { presence: { user: 'alice' } }).ready;
  await settle();
  assert.deepEqual(events, ['join alice']);
  assert.deepEqual((await b.adapter.members('lobby')).map((m) => m.user), ['alice']);
  sequencer.remove(1);
  await settle();
  assert.deepEqual(events, ['join alice', 'leave alice']);
  assert.deepEqual(await b.adapter.members('lobby'), []);
  // Its subscriber hears nothing more.
  await b.engine.publish('lobby', 'after');
  await settle();
  assert.equal(sa.messages().length, 0);
  assert.equal(sb.messages().length, 1);
  sequencer.close();
});

void test('a worker that lost its primary fails requests with UNAVAILABLE instead of waiting', async () => {
  const sequencer = new Sequencer();
  const a = worker(sequencer, 1);
  a.cut();
  await assert.rejects(a.adapter.position('t', LIMITS), (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE');
  await assert.rejects(a.adapter.publish(new TopicMessage('t', 1), LIMITS), (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE');
  assert.equal(a.adapter.isHealthy(), false);
  sequencer.close();
});
