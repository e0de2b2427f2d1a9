/**
 * Slow consumers over real sockets (bad-input guide §19): a raw TCP client that never reads is
 * subscribed next to fast clients while the server publishes tens of megabytes. Under each policy
 * the slow one is capped (dropped, conflated or closed) and every fast client still receives
 * every message, in order. The time the fast clients took is reported, not asserted.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import type { SlowConsumerPolicy } from '../../src/index.js';
import { RawClient, V1Client, openPlain, startRealtime, until, type Envelope } from './helpers.js';

const MESSAGES = 3000;
const SIZE = 8 * 1024;
/** Published per event-loop turn: well under the cap, so a fast client never reaches it. */
const PER_TURN = 8;
const CAP = 1024 * 1024;

interface Run {
  slow: RawClient;
  fast: V1Client[];
  plain: Awaited<ReturnType<typeof openPlain>>;
  statuses: Map<string, number>;
  wss: Awaited<ReturnType<typeof startRealtime>>['wss'];
  fastMs: number;
}

async function flood(t: TestContext, policy: SlowConsumerPolicy, key?: (i: number) => string): Promise<Run> {
  const { wss, url, port } = await startRealtime(t, {
    closeTimeout: 300,
    realtime: { topics: () => ({ policy, maxQueuedBytes: CAP, history: { maxCount: MESSAGES } }) },
  });
  wss.on('connection', (ws) => { if (ws.protocol === '') ws.subscribe('feed'); });
  const fast = await Promise.all([V1Client.open(t, url), V1Client.open(t, url), V1Client.open(t, url)]);
  for (const c of fast) await c.subscribe('feed');
  const plain = await openPlain(t, url);
  const slow = await RawClient.connect(t, port, 'parley.v1');
  slow.sendText('{"t":"sub","id":1,"topic":"feed"}');
  await until(() => wss.subscriberCount('feed') === 5);
  const pad = 'x'.repeat(SIZE);
  const statuses = new Map<string, number>();
  const started = performance.now();
  for (let i = 1; i <= MESSAGES; i++) {
    const r = wss.publish('feed', { i, pad }, key === undefined ? {} : { key: key(i) });
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (i % PER_TURN === 0) await turn();
  }
  await until(() => fast.every((c) => c.msgs('feed').length === MESSAGES) && plain.messages.length === MESSAGES, 30_000, 'fast clients to receive everything');
  const fastMs = performance.now() - started;
  t.diagnostic(`${policy}: ${MESSAGES} messages of ${SIZE} B reached every fast client in ${fastMs.toFixed(0)} ms`);
  for (const c of fast) {
    assert.deepEqual(c.msgs('feed').map((m) => m.offset), Array.from({ length: MESSAGES }, (_, k) => k + 1), 'fast: every offset, in order');
  }
  assert.ok(plain.messages.every((m, k) => (JSON.parse(m.data.toString()) as { i: number }).i === k + 1));
  return { slow, fast, plain, statuses, wss, fastMs };
}

const msgsOf = (envelopes: Envelope[]): Array<Envelope & { offset: number; data: { i: number }; conflated?: boolean; key?: string }> =>
  envelopes.filter((e) => e.t === 'msg') as Array<Envelope & { offset: number; data: { i: number }; conflated?: boolean; key?: string }>;

void describe('a client that never reads, under each policy, while fast clients keep receiving', () => {
  void test('drop: the slow client misses messages (counted), then recovers them with since: no silent gap', async (t) => {
    const { slow, wss, statuses } = await flood(t, 'drop');
    const stats = wss.topicStats('feed');
    assert.ok(stats.dropped > 0, `dropped ${stats.dropped}`);
    assert.ok((statuses.get('dropped') ?? 0) > 0);
    assert.equal(stats.closed, 0);
    t.diagnostic(`drop: ${stats.dropped} deliveries dropped for the slow client`);

    // The slow client wakes up: it reads what was queued, sees the hole in the offsets, and
    // resubscribes with since = the last offset before the hole.
    slow.startReading();
    await until(() => slow.envelopes().some((e) => e.t === 'subok'));
    await until(() => msgsOf(slow.envelopes()).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = msgsOf(slow.envelopes());
    let last = 0;
    for (const m of first) {
      if (m.offset !== last + 1) break;
      last = m.offset;
    }
    assert.ok(last < MESSAGES, 'a gap is visible in the offsets');
    const epoch = first[0]!.epoch as string;
    const before = slow.envelopes().length;
    slow.sendText(JSON.stringify({ t: 'sub', id: 2, topic: 'feed', since: { epoch, offset: last } }));
    await until(() => slow.envelopes().some((e) => e.t === 'subok' && e.id === 2));
    // Messages still in flight from before the resubscription arrive ahead of subok; count after it.
    const at = (): number => slow.envelopes().findIndex((e, k) => k >= before && e.t === 'subok' && e.id === 2);
    await until(() => msgsOf(slow.envelopes().slice(at())).some((m) => m.offset === MESSAGES), 10_000);
    const subok = slow.envelopes()[at()]!;
    assert.equal(subok.recovered, true);
    const recovered = msgsOf(slow.envelopes().slice(at())).map((m) => m.offset);
    assert.deepEqual(recovered, Array.from({ length: MESSAGES - last }, (_, k) => last + k + 1));
  });

  void test('conflate: only the latest per key waits for the slow client, delivered when it drains', async (t) => {
    const keys = 10;
    const { slow, wss, statuses } = await flood(t, 'conflate', (i) => `k${i % keys}`);
    const stats = wss.topicStats('feed');
    assert.ok(stats.conflated > 0, `conflated ${stats.conflated}`);
    assert.equal(stats.dropped, 0);
    assert.ok((statuses.get('backpressure') ?? 0) > 0);
    t.diagnostic(`conflate: ${stats.conflated} messages replaced by newer ones for the slow client`);
    slow.startReading();
    // The newest message of each key must arrive: the last `keys` messages published.
    await until(() => msgsOf(slow.envelopes()).some((m) => m.data.i === MESSAGES), 15_000, 'the final values');
    const got = msgsOf(slow.envelopes());
    const latest = new Map<string, number>();
    for (const m of got) latest.set(m.key!, m.data.i);
    for (let i = MESSAGES - keys + 1; i <= MESSAGES; i++) assert.equal(latest.get(`k${i % keys}`), i);
    assert.ok(got.length < MESSAGES, `received ${got.length} of ${MESSAGES}`);
    const offsets = got.map((m) => m.offset);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'still in offset order');
    assert.ok(got.some((m) => m.conflated === true), 'conflated deliveries say so');
    // Every jump in offsets is followed by a message marked conflated: never a silent gap.
    for (let k = 1; k < got.length; k++) {
      if (got[k]!.offset !== got[k - 1]!.offset + 1) assert.equal(got[k]!.conflated, true, `jump before offset ${got[k]!.offset}`);
    }
    assert.equal(wss.topicStats('feed').holding, 0);
  });

  void test('close: the slow client is closed with 1008 and dropped from the topic', async (t) => {
    const { slow, wss, statuses } = await flood(t, 'close');
    const stats = wss.topicStats('feed');
    assert.equal(stats.closed, 1);
    assert.equal(stats.subscribers, 4);
    assert.ok((statuses.get('dropped') ?? 0) >= 1);
    // The close frame cannot get through a full buffer: closeTimeout cuts the connection, which
    // the slow client sees once it reads again.
    await until(() => wss.clients.size === 4, 5000, 'the server to drop the connection');
    slow.startReading();
    await slow.ended;
  });
});
