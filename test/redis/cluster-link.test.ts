/**
 * The Redis adapter on a real Redis Cluster (three masters, one replica each) that this file
 * starts on spare ports and tears down at the end: hash-tagged keys, sharded pub/sub, two adapters
 * (two nodes) in this process, a node in a child process killed for presence, and a master killed
 * with SIGKILL for the failover. Without redis-server and redis-cli the tests skip (fail under CI=true).
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createCluster } from 'redis';
import { RedisAdapter, type RedisAdapterOptions } from '../../src/redis/index.js';
import { CLUSTER_SCRIPTS } from '../../src/redis/cluster-scripts.js';
import { Keys } from '../../src/redis/keys.js';
import { ClusterLink } from '../../src/redis/cluster-link.js';
import { RedisLink } from '../../src/redis/connection.js';
import { newCounters } from '../../src/redis/health.js';
import { ParleyError } from '../../src/index.js';
import { V1Client, startRealtime, until, type Started } from '../realtime/helpers.js';
import { PrivateCluster, needRedisClusterTools, redisCli, startNodeProcess, uniquePrefix } from './support.js';

interface Node extends Started {
  adapter: RedisAdapter;
}

let started: Promise<PrivateCluster> | undefined;
/** The file's cluster, started by the first test that needs it. */
function theCluster(): Promise<PrivateCluster> {
  return (started ??= PrivateCluster.start());
}
after(async () => {
  if (started !== undefined) (await started.catch(() => undefined))?.stop();
});

async function nodes(t: TestContext, cluster: PrivateCluster, n: number, options: RedisAdapterOptions = {}): Promise<Node[]> {
  const keyPrefix = options.keyPrefix ?? uniquePrefix(t.name.replace(/\W+/g, '-').slice(0, 20));
  const out: Node[] = [];
  for (let i = 0; i < n; i++) {
    const adapter = new RedisAdapter({ cluster: { rootNodes: cluster.rootNodes }, reconnect: { minMs: 20, maxMs: 200 }, ...options, keyPrefix });
    await adapter.connect();
    t.after(() => adapter.close());
    out.push({ ...(await startRealtime(t, { realtime: { adapter } })), adapter });
  }
  return out;
}

async function slotOf(cluster: PrivateCluster, key: string): Promise<number> {
  return Number((await redisCli(['-p', String(cluster.running[0]), 'CLUSTER', 'KEYSLOT', key])).trim());
}

/** A topic name (from `stem`) whose slot is served by a master other than `not`'s. */
async function topicOn(cluster: PrivateCluster, keys: Keys, stem: string, not: (port: number) => boolean): Promise<string> {
  for (let i = 0; ; i++) {
    const topic = `${stem}-${i}`;
    if (!not(await cluster.masterOf(keys.meta(topic)))) return topic;
  }
}

void describe('RedisAdapter on a Redis Cluster', () => {
  void test('every name of a topic is in one slot (odd names too), and the scripts use only shard channels', async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const keys = new Keys('parley:', true);
    for (const topic of ['room', '', 'a}b', '{x}', 'ü/😀', 'p:{t:q}:m']) {
      const names = [keys.meta(topic), keys.history(topic), keys.idempotency(topic, 'k.1'), keys.channel(topic), keys.presence(topic), keys.presenceUsers(topic), keys.presenceSequence(topic)];
      const slots = new Set(await Promise.all(names.map((name) => slotOf(cluster, name))));
      assert.equal(slots.size, 1, `one slot for ${JSON.stringify(topic)}: ${JSON.stringify(names)} → ${[...slots].join(",")}`);
      assert.equal(keys.topicOf(keys.channel(topic)), topic);
    }
    const node = new Set(await Promise.all([keys.heartbeat('n1'), keys.nodeConnections('n1'), keys.nodes].map((name) => slotOf(cluster, name))));
    assert.equal(node.size, 1, 'the node bookkeeping shares one slot');
    assert.equal(keys.topicOf('parley:c:room'), undefined, 'a single-Redis channel is not ours');
    for (const [name, script] of Object.entries(CLUSTER_SCRIPTS)) {
      assert.doesNotMatch(script.source, /redis\.call\('PUBLISH'/, `${name} publishes on shard channels only`);
      if (script.source.includes('topic_epoch')) assert.match(script.source, /'CLUSTER', 'MYID'/, `${name} checks the topic's master`);
    }
  });

  void test('topics spread over every master; publishes from two nodes reach both in one order per topic', async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const [a, b] = await nodes(t, cluster, 2);
    const keys = new Keys(uniquePrefix('x'), true);
    const topics = Array.from({ length: 12 }, (_, i) => `room-${i}`);
    const masters = new Set(await Promise.all(topics.map((topic) => cluster.masterOf(keys.meta(topic)))));
    assert.equal(masters.size, 3, 'twelve topics land on all three masters');
    const onA = await V1Client.open(t, a!.url);
    const onB = await V1Client.open(t, b!.url);
    for (const topic of topics) {
      assert.equal((await onA.subscribe(topic)).t, 'subok');
      assert.equal((await onB.subscribe(topic)).t, 'subok');
    }
    const PER = 20;
    for (let i = 0; i < PER; i++) {
      for (const topic of topics) {
        a!.wss.publish(topic, { from: 'a', i });
        b!.wss.publish(topic, { from: 'b', i });
      }
    }
    await until(() => [onA, onB].every((c) => topics.every((topic) => c.msgs(topic).length >= 2 * PER)), 10_000, 'every message on both nodes');
    for (const topic of topics) {
      const ref = onA.msgs(topic);
      assert.deepEqual(ref.map((m) => m.offset), Array.from({ length: 2 * PER }, (_, k) => k + 1), `${topic}: offsets 1..n`);
      assert.deepEqual(onB.msgs(topic).map((m) => JSON.stringify([m.epoch, m.offset, m.data])), ref.map((m) => JSON.stringify([m.epoch, m.offset, m.data])), `${topic}: one order on both nodes`);
      for (const from of ['a', 'b']) {
        assert.deepEqual(ref.map((m) => m.data as { from: string; i: number }).filter((d) => d.from === from).map((d) => d.i), Array.from({ length: PER }, (_, k) => k), `${topic}: node ${from}'s publishes in its order`);
      }
    }
    assert.equal(a!.adapter.counters.publishedLocally + b!.adapter.counters.publishedLocally, 0);
    assert.equal(a!.adapter.counters.gaps + b!.adapter.counters.gaps, 0);
  });

  void test('a client moving to the other node resumes exactly what it missed; a pub re-sent there is applied once', async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const [a, b] = await nodes(t, cluster, 2);
    const publisher = await V1Client.open(t, b!.url);
    const mover = await V1Client.open(t, a!.url);
    await mover.subscribe('feed');
    for (let i = 1; i <= 30; i++) publisher.send({ t: 'pub', topic: 'feed', data: i });
    await until(() => mover.msgs('feed').length === 30, 5000, 'the first 30');
    const last = mover.msgs('feed').at(-1)!;
    mover.ws.terminate();
    await mover.closed;
    for (let i = 31; i <= 50; i++) publisher.send({ t: 'pub', topic: 'feed', data: i });
    assert.equal((await publisher.call({ t: 'pub', topic: 'feed', data: 51 })).offset, 51);
    const moved = await V1Client.open(t, b!.url);
    const subok = await moved.subscribe('feed', { since: { epoch: last.epoch, offset: last.offset } });
    assert.equal(subok.recovered, true);
    await until(() => moved.msgs('feed').length === 21, 5000, 'the missed 21');
    assert.deepEqual(moved.msgs('feed').map((m) => [m.offset, m.data]), Array.from({ length: 21 }, (_, k) => [31 + k, 31 + k]));
    // A stale position (another epoch) is not recovered.
    const stale = await V1Client.open(t, a!.url);
    assert.equal((await stale.subscribe('feed', { since: { epoch: 'nope', offset: 3 } })).recovered, false);
    // Idempotency: the same id re-sent through the other node gets the first offset, and is not published again.
    const id = 'q8w7e6r5t4y3u2i1.1';
    const first = await V1Client.open(t, a!.url);
    const okA = await first.call({ t: 'pub', id, topic: 'feed', data: 'once' });
    first.ws.close();
    const second = await V1Client.open(t, b!.url);
    const okB = await second.call({ t: 'pub', id, topic: 'feed', data: 'once' });
    assert.equal(okA.offset, 52);
    assert.equal(okB.offset, 52);
    assert.equal((await second.call({ t: 'pub', topic: 'feed', data: 'next' })).offset, 53);
    await until(() => moved.msgs('feed').length === 23, 5000, 'once and next');
    assert.deepEqual(moved.msgs('feed').slice(-2).map((m) => m.data), ['once', 'next']);
  });

  void test('presence across nodes: joins, the member list, leaves, and a node killed with SIGKILL swept', async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const keyPrefix = uniquePrefix('presence');
    const TTL = 600;
    const [a] = await nodes(t, cluster, 1, { keyPrefix, presenceTtlMs: TTL });
    const doomed = await startNodeProcess(t, '', { REDIS_CLUSTER_NODES: cluster.rootNodes.join(','), KEY_PREFIX: keyPrefix, PRESENCE_TTL_MS: String(TTL) });
    const watcher = await V1Client.open(t, a!.url);
    await watcher.subscribe('lobby', { presence: { name: 'watcher' } });
    const remote = await V1Client.open(t, doomed.url);
    await remote.subscribe('lobby', { presence: { name: 'remote' } });
    const leaver = await V1Client.open(t, doomed.url);
    await leaver.subscribe('lobby', { presence: { name: 'leaver' } });
    await until(() => watcher.ofType('pres').length >= 3, 5000, 'three joins');
    const listed = await watcher.call({ t: 'presence', topic: 'lobby' });
    assert.deepEqual((listed.members as Array<{ info: { name: string } }>).map((m) => m.info.name).sort(), ['leaver', 'remote', 'watcher']);
    leaver.ws.close();
    await until(() => watcher.ofType('pres').some((e) => e.event === 'leave'), 5000, 'a leave');
    doomed.child.kill('SIGKILL');
    await until(() => watcher.ofType('pres').filter((e) => e.event === 'leave').length === 2, 5000, 'the killed node swept');
    const after = await watcher.call({ t: 'presence', topic: 'lobby' });
    assert.deepEqual((after.members as Array<{ info: { name: string } }>).map((m) => m.info.name), ['watcher']);
    assert.ok(a!.adapter.counters.presenceSwept >= 1);
  });

  // Last: it kills a master for good (the cluster goes on with three masters, one without a replica).
  void test('a master killed with SIGKILL: publishing resumes on the promoted replica, and every subscriber gets every message or is told of the gap', async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const keyPrefix = uniquePrefix('failover');
    const [a, b] = await nodes(t, cluster, 2, { keyPrefix, healthCheckIntervalMs: 100, commandTimeoutMs: 500 });
    const keys = new Keys(keyPrefix, true);
    const topic = 'ticker';
    const victim = await cluster.masterOf(keys.meta(topic));
    const calm = await topicOn(cluster, keys, 'calm', (port) => port === victim);
    const subs = [await V1Client.open(t, a!.url), await V1Client.open(t, b!.url)];
    for (const c of subs) {
      await c.subscribe(topic);
      await c.subscribe(calm);
    }
    const publisher = await V1Client.open(t, a!.url);
    const receipts: Array<{ i: number; local: boolean; at: number }> = [];
    let i = 0;
    /** Publishes through node a; whether it was delivered locally (Redis could not take it). */
    const pub = async (to: string): Promise<boolean> => {
      const locally = a!.adapter.counters.publishedLocally;
      const ok = await publisher.call({ t: 'pub', topic: to, data: to === topic ? ++i : 0 });
      assert.equal(ok.t, 'ok');
      return a!.adapter.counters.publishedLocally > locally;
    };
    const ticker = async (): Promise<void> => {
      const local = await pub(topic);
      receipts.push({ i, local, at: performance.now() });
    };
    for (let k = 0; k < 20; k++) await ticker();
    await until(() => subs.every((c) => c.msgs(topic).length === 20), 5000, 'the first 20');
    const before = subs[0]!.msgs(topic)[0]!.epoch;
    const killedAt = performance.now();
    cluster.kill(victim);
    // Publish every 20 ms until, after some went local, 20 in a row went through Redis (on the new master).
    let calmLocal = 0;
    for (;;) {
      await ticker();
      if (await pub(calm)) calmLocal++;
      const tail = receipts.slice(-20);
      if (receipts.some((r) => r.local) && tail.every((r) => !r.local)) break;
      assert.ok(performance.now() - killedAt < 30_000, `publishing through Redis resumed within 30 s (a: ${a!.adapter.healthReason}, b: ${b!.adapter.healthReason})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const firstLocal = receipts.findIndex((r) => r.local);
    const resumed = receipts.slice(firstLocal).find((r) => !r.local)!;
    t.diagnostic(`failover: publishes through Redis resumed ${((resumed.at - killedAt) / 1000).toFixed(2)} s after the master was killed; ${receipts.filter((r) => r.local).length} publishes delivered locally meanwhile`);
    assert.equal(calmLocal, 0, 'a topic on another master kept publishing through Redis');
    // Once both nodes are healthy again, every publish reaches both (their shard subscriptions moved to the new master).
    await until(() => a!.adapter.isHealthy() && b!.adapter.isHealthy(), 10_000, 'both nodes healthy');
    const settled = i + 1;
    for (let k = 0; k < 10; k++) await ticker();
    const total = i;
    await until(() => subs.every((c) => c.msgs(topic).filter((m) => (m.data as number) >= settled).length === 10), 10_000, 'the publishes after the failover on both nodes');
    const after = subs[0]!.msgs(topic).at(-1)?.epoch;
    for (const [n, c] of subs.entries()) {
      const got = c.msgs(topic).map((m) => m.data as number);
      // Never out of order, never twice.
      assert.deepEqual(got, [...got].sort((x, y) => x - y), `subscriber ${n}: in order`);
      assert.equal(new Set(got).size, got.length, `subscriber ${n}: no duplicates`);
      const missed = Array.from({ length: total }, (_, k) => k + 1).filter((x) => !got.includes(x));
      const gaps = c.ofType('gap').filter((e) => e.topic === topic).length;
      // Every message, or told of the gap: never a silent loss.
      assert.ok(missed.length === 0 || gaps > 0, `subscriber ${n} missed ${missed.join(',')} without a gap`);
      // Within one epoch, offsets never skip.
      const msgs = c.msgs(topic);
      for (let k = 1; k < msgs.length; k++) {
        if (msgs[k]!.epoch === msgs[k - 1]!.epoch) assert.equal(msgs[k]!.offset, msgs[k - 1]!.offset + 1, `subscriber ${n}: no hole inside an epoch`);
      }
    }
    // The topic has a new epoch: a client resuming from the old one learns it.
    assert.notEqual(after, before);
    const late = await V1Client.open(t, b!.url);
    assert.equal((await late.subscribe(topic, { since: { epoch: before, offset: 20 } })).recovered, false);
    assert.ok(a!.adapter.isHealthy() && b!.adapter.isHealthy());
    assert.ok(a!.adapter.counters.outages >= 1);
  });
});

void describe('RedisAdapter cluster options', () => {
  void test('bad cluster options are refused at construction', () => {
    assert.throws(() => new RedisAdapter({ cluster: { rootNodes: [] } }), RangeError);
    assert.throws(() => new RedisAdapter({ cluster: { rootNodes: ['http://x:1'] } }), RangeError);
    assert.throws(() => new RedisAdapter({ cluster: { rootNodes: ['redis://127.0.0.1:1'] }, client: createCluster as never }), TypeError);
  });
});

void describe('ClusterLink before connect', () => {
  void test('refuses commands and subscribes with REDIS_UNAVAILABLE, the same error one Redis gives', async () => {
    const options = { commandTimeoutMs: 100, healthCheckIntervalMs: 1000, reconnect: undefined, log: () => {}, counters: newCounters() };
    const unavailable = (error: unknown): boolean => error instanceof ParleyError && error.code === 'ERR_REDIS_UNAVAILABLE';
    for (const link of [new ClusterLink({ ...options, rootNodes: ['redis://127.0.0.1:1'] }), new RedisLink({ ...options, url: 'redis://127.0.0.1:1', client: undefined })]) {
      await assert.rejects(link.command(['GET', 'k']), unavailable);
      await assert.rejects(link.subscribe('c', () => {}), unavailable);
    }
  });
});
