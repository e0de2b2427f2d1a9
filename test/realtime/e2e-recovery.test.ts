/**
 * Recovery end to end (bad-input guide §23): a client whose connection is cut while messages
 * keep flowing reconnects with `since` and receives exactly the messages it missed, in order —
 * or is told it cannot (`recovered: false`) and gets a snapshot. Never a silent gap.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from '../../src/index.js';
import { V1Client, startRealtime, until, type Msg } from './helpers.js';

const TOTAL = 600;

/** Publishes `{ seq }` every millisecond or so until `TOTAL`, from the server. */
function startPublishing(wss: Awaited<ReturnType<typeof startRealtime>>['wss']): { done: Promise<void>; published: () => number } {
  let seq = 0;
  const done = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (let k = 0; k < 3 && seq < TOTAL; k++) wss.publish('feed', { seq: ++seq });
      if (seq >= TOTAL) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  return { done, published: () => seq };
}

/** The offsets of a run of `msg`s must go up by exactly one. */
function assertContiguous(msgs: Msg[], from: number, what: string): void {
  msgs.forEach((m, k) => {
    assert.equal(m.offset, from + k, `${what}: offset ${m.offset} at position ${k}`);
    assert.equal((m.data as { seq: number }).seq, m.offset, `${what}: data matches its offset`);
  });
}

async function cutAndRecover(t: TestContext, cut: 'client terminate' | 'server terminate'): Promise<void> {
  const { wss, url } = await startRealtime(t);
  const server: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket) => server.push(ws));
  const first = await V1Client.open(t, url);
  const subok = await first.subscribe('feed');
  assert.equal(subok.offset, 0);
  const publisher = startPublishing(wss);
  await until(() => first.msgs('feed').length >= 100, 5000, 'the first hundred messages');
  if (cut === 'client terminate') first.ws.terminate();
  else server[0]!.terminate();
  const cutAt = publisher.published();
  await first.closed;
  const seen = first.msgs('feed');
  assertContiguous(seen, 1, 'before the cut');
  const last = seen.at(-1)!;

  // Messages keep flowing while the client is away.
  await until(() => publisher.published() >= cutAt + 100, 5000, 'more messages while away');
  const second = await V1Client.open(t, url);
  const resumed = await second.subscribe('feed', { since: { epoch: last.epoch, offset: last.offset } });
  assert.equal(resumed.t, 'subok');
  assert.equal(resumed.recovered, true);
  assert.equal(resumed.epoch, last.epoch);
  assert.ok((resumed.offset as number) > last.offset);
  assert.equal(resumed.snapshot, undefined);
  await publisher.done;
  await until(() => second.msgs('feed').length === TOTAL - last.offset, 5000, 'every remaining message');
  const after = second.msgs('feed');
  assertContiguous(after, last.offset + 1, 'after reconnecting');
  // Both connections together: every offset exactly once.
  const all = [...seen, ...after].map((m) => m.offset);
  assert.deepEqual(all, Array.from({ length: TOTAL }, (_, k) => k + 1));
  t.diagnostic(`${cut}: ${seen.length} before the cut, ${(resumed.offset as number) - last.offset} recovered from history, ${TOTAL - (resumed.offset as number)} live`);
}

void describe('cut mid-stream, reconnect with since: exactly the missed messages, in order', () => {
  void test('the client\'s connection is cut (terminate)', (t) => cutAndRecover(t, 'client terminate'));
  void test('the server cuts the connection (terminate)', (t) => cutAndRecover(t, 'server terminate'));
});

void describe('recovered: false with a snapshot when recovery is impossible', () => {
  const snapshot = (topic: string): unknown => ({ snapshotOf: topic, at: 'now' });

  void test('history no longer holds the missed messages (maxCount)', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { history: { maxCount: 5 }, snapshot } });
    const c = await V1Client.open(t, url);
    const first = await c.subscribe('room');
    assert.deepEqual(first.snapshot, { snapshotOf: 'room', at: 'now' }, 'a new subscription gets the snapshot too');
    assert.equal(first.recovered, undefined, 'recovered is only present with since');
    wss.publish('room', 1);
    const m = await c.waitFor((e) => e.t === 'msg');
    c.ws.terminate();
    for (let i = 2; i <= 20; i++) wss.publish('room', i);
    const again = await V1Client.open(t, url);
    const r = await again.subscribe('room', { since: { epoch: m.epoch, offset: m.offset } });
    assert.equal(r.recovered, false);
    assert.equal(r.offset, 20, 'the position the snapshot stands for');
    assert.deepEqual(r.snapshot, { snapshotOf: 'room', at: 'now' });
    wss.publish('room', 21);
    await again.waitFor((e) => e.t === 'msg');
    assert.deepEqual(again.msgs('room').map((x) => x.offset), [21], 'no stale messages, live ones continue');
  });

  void test('history aged out (maxAge)', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { history: { maxAge: 30 }, snapshot } });
    const pos = await wss.position('t');
    wss.publish('t', 'old');
    await sleep(60);
    wss.publish('t', 'new');
    const c = await V1Client.open(t, url);
    const r = await c.subscribe('t', { since: { epoch: pos.epoch, offset: 0 } });
    assert.equal(r.recovered, false);
    assert.ok(r.snapshot !== undefined);
  });

  void test('the epoch differs (history started over, or another server)', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { snapshot: (topic, ws) => Promise.resolve({ topic, for: ws.connectionId }) } });
    wss.publish('x', 'a');
    const c = await V1Client.open(t, url);
    const r = await c.subscribe('x', { since: { epoch: 'not-this-epoch', offset: 1 } });
    assert.equal(r.recovered, false);
    assert.deepEqual(r.snapshot, { topic: 'x', for: c.hello.conn });
  });

  void test('an offset in the future of the topic cannot be recovered', async (t) => {
    const { wss, url } = await startRealtime(t);
    wss.publish('x', 'a');
    const { epoch } = await wss.position('x');
    const c = await V1Client.open(t, url);
    const r = await c.subscribe('x', { since: { epoch, offset: 99 } });
    assert.equal(r.recovered, false);
    assert.equal(r.snapshot, undefined, 'no snapshot hook: no snapshot');
  });

  void test('recovered: true means no snapshot; up to date is recovered with nothing to send', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { snapshot } });
    wss.publish('x', 'a');
    const { epoch } = await wss.position('x');
    const c = await V1Client.open(t, url);
    const r = await c.subscribe('x', { since: { epoch, offset: 1 } });
    assert.equal(r.recovered, true);
    assert.equal('snapshot' in r, false);
  });

  void test('a snapshot hook that throws → err INTERNAL and no subscription', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { snapshot: () => { throw new Error('private detail'); } } });
    const c = await V1Client.open(t, url);
    const r = await c.subscribe('x');
    assert.deepEqual(r, { t: 'err', id: r.id, code: 'INTERNAL', message: 'internal error' });
    assert.equal(wss.subscriberCount('x'), 0);
  });

  void test('messages published while an asynchronous snapshot is computed follow subok, none lost', async (t) => {
    const ref: { wss?: Awaited<ReturnType<typeof startRealtime>>['wss'] } = {};
    const { wss, url } = await startRealtime(t, {
      realtime: {
        snapshot: async () => {
          for (let i = 0; i < 5; i++) ref.wss!.publish('x', `during ${i}`);
          await sleep(10);
          return 'state';
        },
      },
    });
    ref.wss = wss;
    wss.publish('x', 'before');
    const c = await V1Client.open(t, url);
    const r = await c.subscribe('x');
    assert.equal(r.offset, 1);
    await until(() => c.msgs('x').length === 5);
    const subokAt = c.received.indexOf(r);
    assert.ok(c.received.findIndex((e) => e.t === 'msg') > subokAt, 'subok first');
    assert.deepEqual(c.msgs('x').map((m) => m.offset), [2, 3, 4, 5, 6]);
  });
});
