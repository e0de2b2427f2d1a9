/**
 * Redis going away (bad-input guide §24): each test runs a private redis-server without
 * persistence on a spare port, so it can kill, restart or pause it without touching the shared
 * one. Local delivery must continue, the adapter must come back by itself, and anything the
 * clients may have missed must be reported (`gap`, then `recovered: false`), never hidden.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { RedisAdapter } from '../../src/redis/index.js';
import { V1Client, startRealtime, until, type Started } from '../realtime/helpers.js';
import { PrivateRedis, needRedisServer } from './support.js';

interface Node extends Started {
  adapter: RedisAdapter;
  logs: string[];
}

async function startNode(t: TestContext, url: string): Promise<Node> {
  const logs: string[] = [];
  const adapter = new RedisAdapter({
    url,
    keyPrefix: 'outage:',
    commandTimeoutMs: 300,
    healthCheckIntervalMs: 100,
    reconnect: { minMs: 50, maxMs: 200 },
    logger: (level, message) => logs.push(`${level}: ${message}`),
  });
  await adapter.connect();
  t.after(() => adapter.close());
  const started = await startRealtime(t, { realtime: { adapter } });
  return { ...started, adapter, logs };
}

void describe('RedisAdapter when Redis goes away', () => {
  void test('Redis restarted mid-stream (losing its data): local delivery goes on, then every client learns recovered: false', async (t) => {
    if (!(await needRedisServer(t))) return;
    const redis = await PrivateRedis.start(t);
    const a = await startNode(t, redis.url);
    const b = await startNode(t, redis.url);
    const onA = await V1Client.open(t, a.url);
    const onB = await V1Client.open(t, b.url);
    await onA.subscribe('feed', { presence: { name: 'Ann' } });
    await onB.subscribe('feed');
    let present = await b.wss.presence('feed');
    for (let i = 0; i < 100 && present.length === 0; i++) present = await b.wss.presence('feed');
    assert.deepEqual(present.map((m) => m.info), [{ name: 'Ann' }], 'Ann present on the other node');
    for (let i = 1; i <= 20; i++) a.wss.publish('feed', i);
    await until(() => onA.msgs('feed').length === 20 && onB.msgs('feed').length === 20, 5000, 'the first 20');
    const before = onA.msgs('feed').at(-1)!;

    redis.stop();
    await until(() => !a.adapter.isHealthy() && !b.adapter.isHealthy(), 5000, 'both nodes notice');
    for (let i = 21; i <= 25; i++) a.wss.publish('feed', i);
    await until(() => onA.msgs('feed').length === 25, 2000, 'local delivery during the outage');
    const local = onA.msgs('feed').slice(20);
    assert.ok(local.every((m) => m.epoch !== before.epoch && m.epoch.startsWith('L')), 'a local epoch, never mixed with the cluster\'s');
    assert.deepEqual(local.map((m) => m.offset), [1, 2, 3, 4, 5]);
    assert.equal(onB.msgs('feed').length, 20, 'the other node cannot get them');
    assert.equal(a.adapter.counters.publishedLocally, 5);
    assert.ok(a.logs.some((l) => l.startsWith('warn: Redis unreachable')), 'the outage is logged');
    const duringOutage = await a.wss.presence('feed');
    assert.deepEqual(duringOutage.map((m) => m.info), [{ name: 'Ann' }], 'a node still knows its own members');

    const gapsBefore = [onA.ofType('gap').length, onB.ofType('gap').length];
    await redis.restart();
    await until(() => a.adapter.isHealthy() && b.adapter.isHealthy(), 10_000, 'both nodes reconnect');
    // A used a local epoch, B finds Redis lost the topic: both tell their clients.
    await until(() => onA.ofType('gap').length > gapsBefore[0]! && onB.ofType('gap').length > gapsBefore[1]!, 5000, 'gap on both nodes');
    for (const [c, last] of [[onA, onA.msgs('feed').at(-1)!], [onB, onB.msgs('feed').at(-1)!]] as const) {
      const subok = await c.subscribe('feed', { since: { epoch: last.epoch, offset: last.offset } });
      assert.equal(subok.recovered, false, 'what happened during the outage cannot be replayed');
    }
    const seen = [onA.msgs('feed').length, onB.msgs('feed').length];
    b.wss.publish('feed', 'after');
    await until(() => onA.msgs('feed').length === seen[0]! + 1 && onB.msgs('feed').length === seen[1]! + 1, 5000, 'live again on both');
    const afterA = onA.msgs('feed').at(-1)!;
    assert.equal(afterA.data, 'after');
    assert.deepEqual([afterA.epoch, afterA.offset], [onB.msgs('feed').at(-1)!.epoch, onB.msgs('feed').at(-1)!.offset], 'one order again');
    assert.ok(a.adapter.counters.outages >= 1 && a.adapter.counters.gaps >= 1);
    // The restarted Redis lost presence too: node A made Ann present again.
    let members = await b.wss.presence('feed');
    for (let i = 0; i < 100 && members.length === 0; i++) members = await b.wss.presence('feed');
    assert.deepEqual(members.map((m) => m.info), [{ name: 'Ann' }]);
    assert.ok(a.logs.some((l) => l.startsWith('info: Redis reachable')));
  });

  void test('Redis paused (SIGSTOP): the node notices by PING, serves locally, and recovers when it resumes', async (t) => {
    if (!(await needRedisServer(t))) return;
    const redis = await PrivateRedis.start(t);
    const a = await startNode(t, redis.url);
    const client = await V1Client.open(t, a.url);
    await client.subscribe('room');
    a.wss.publish('room', 'before');
    await until(() => client.msgs('room').length === 1, 5000, 'first message');
    const changes: boolean[] = [];
    a.adapter.onHealthChange((healthy) => changes.push(healthy));
    redis.pause();
    t.after(() => redis.resume());
    await until(() => !a.adapter.isHealthy(), 5000, 'the pause noticed');
    a.wss.publish('room', 'during');
    await until(() => client.msgs('room').length === 2, 2000, 'local delivery while paused');
    const late = await V1Client.open(t, a.url);
    const lateSubok = await late.subscribe('room');
    assert.ok(String(lateSubok.epoch).startsWith('L'), 'a subscription made meanwhile starts in the local epoch');
    redis.resume();
    await until(() => a.adapter.isHealthy(), 5000, 'back');
    await client.waitFor((e) => e.t === 'gap' && e.topic === 'room', 5000);
    await late.waitFor((e) => e.t === 'gap' && e.topic === 'room', 5000);
    const last = client.msgs('room').at(-1)!;
    const subok = await client.subscribe('room', { since: { epoch: last.epoch, offset: last.offset } });
    assert.equal(subok.recovered, false);
    assert.deepEqual(changes.slice(0, 2), [false, true]);
  });

  void test('a node whose subscriber connection is cut catches up from history: no loss, no duplicate, no gap', async (t) => {
    if (!(await needRedisServer(t))) return;
    const redis = await PrivateRedis.start(t);
    const a = await startNode(t, redis.url);
    const b = await startNode(t, redis.url);
    const onA = await V1Client.open(t, a.url);
    const onB = await V1Client.open(t, b.url);
    await onA.subscribe('s');
    await onB.subscribe('s');
    const admin = createClient({ url: redis.url });
    admin.on('error', () => {});
    await admin.connect();
    t.after(() => admin.destroy());
    const TOTAL = 400;
    let sent = 0;
    let killed = false;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let k = 0; k < 4 && sent < TOTAL; k++) a.wss.publish('s', ++sent);
        if (!killed && sent >= TOTAL / 4) {
          killed = true;
          // Every subscriber connection drops; command connections stay, so publishes keep their order.
          void admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
        }
        if (sent >= TOTAL) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await until(() => onA.msgs('s').length >= TOTAL && onB.msgs('s').length >= TOTAL, 10_000, 'every message on both');
    for (const c of [onA, onB]) {
      assert.deepEqual(c.msgs('s').map((m) => m.offset), Array.from({ length: TOTAL }, (_, k) => k + 1));
      assert.deepEqual(c.msgs('s').map((m) => m.data), Array.from({ length: TOTAL }, (_, k) => k + 1));
      assert.equal(c.ofType('gap').length, 0);
    }
    assert.equal(a.adapter.counters.publishedLocally, 0, 'publishes went through Redis while only the subscriber was away');
    assert.ok(b.adapter.counters.outages >= 1, 'the cut was noticed');
  });
});
