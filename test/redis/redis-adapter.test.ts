/**
 * The Redis adapter with two or more real-time servers in this process, each with its own
 * adapter (as separate processes would have), on the shared Redis under a key prefix of the
 * test's own. Clients speak `parley.v1` by hand (test/realtime/helpers.ts).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { RedisAdapter, type RedisAdapterOptions } from '../../src/redis/index.js';
import type { WebSocket } from '../../src/index.js';
import { V1Client, openPlain, startRealtime, until, type Msg, type Started } from '../realtime/helpers.js';
import { DEFAULT_HISTORY_LIMITS } from '../../src/pubsub/history.js';
import { Keys } from '../../src/redis/keys.js';
import { SCRIPTS } from '../../src/redis/scripts.js';
import { SHARED_REDIS_URL, deleteKeys, needRedis, uniquePrefix } from './support.js';

interface Node extends Started {
  adapter: RedisAdapter;
}

async function startNode(t: TestContext, options: RedisAdapterOptions): Promise<Node> {
  const adapter = new RedisAdapter({ url: SHARED_REDIS_URL, ...options });
  await adapter.connect();
  // Closed after the server (t.after runs in reverse order).
  t.after(() => adapter.close());
  const started = await startRealtime(t, { realtime: { adapter } });
  return { ...started, adapter };
}

async function nodes(t: TestContext, n: number, options: RedisAdapterOptions = {}): Promise<Node[]> {
  const keyPrefix = options.keyPrefix ?? uniquePrefix(t.name.replace(/\W+/g, '-').slice(0, 30));
  const out: Node[] = [];
  // Registered first, so it runs last: after every server and adapter has closed.
  t.after(() => deleteKeys(SHARED_REDIS_URL, keyPrefix));
  for (let i = 0; i < n; i++) out.push(await startNode(t, { ...options, keyPrefix }));
  return out;
}

async function rawRedis(t: TestContext): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ url: SHARED_REDIS_URL });
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.destroy());
  return client;
}

function assertOneOrder(clients: V1Client[], topic: string, total: number): void {
  const reference = clients[0]!.msgs(topic);
  assert.equal(reference.length, total, 'every message arrived');
  reference.forEach((m, k) => assert.equal(m.offset, k + 1, 'offsets go up by one'));
  const order = reference.map((m) => JSON.stringify(m.data));
  assert.equal(new Set(order).size, total, 'no message twice');
  for (const c of clients.slice(1)) {
    const msgs = c.msgs(topic);
    assert.equal(msgs.length, total, 'every client got every message once');
    assert.deepEqual(msgs.map((m) => JSON.stringify(m.data)), order, 'every client saw one order');
    assert.deepEqual(msgs.map((m) => m.epoch), reference.map((m) => m.epoch), 'one epoch');
  }
}

void describe('RedisAdapter across servers', () => {
  void test('publishes from every node reach every subscriber on every node exactly once, in one order', async (t) => {
    if (!(await needRedis(t))) return;
    const [a, b] = await nodes(t, 2);
    const clients = [await V1Client.open(t, a!.url), await V1Client.open(t, a!.url), await V1Client.open(t, b!.url), await V1Client.open(t, b!.url)];
    for (const c of clients) assert.equal((await c.subscribe('room')).t, 'subok');
    const TOTAL = 300;
    for (let i = 0; i < TOTAL / 3; i++) {
      a!.wss.publish('room', { from: 'a', i });
      b!.wss.publish('room', { from: 'b', i });
      clients[i % 4]!.send({ t: 'pub', topic: 'room', data: { from: `client${i % 4}`, i } });
    }
    await until(() => clients.every((c) => c.msgs('room').length >= TOTAL), 10_000, 'every message on every client');
    assertOneOrder(clients, 'room', TOTAL);
    assert.equal(a!.adapter.counters.published + b!.adapter.counters.published, TOTAL);
    assert.equal(a!.adapter.counters.publishedLocally, 0);
  });

  void test('ws.publish skips its plain sender on its own node, and no one else', async (t) => {
    if (!(await needRedis(t))) return;
    const [a, b] = await nodes(t, 2);
    const serverSide: WebSocket[] = [];
    a!.wss.on('connection', (ws: WebSocket) => serverSide.push(ws));
    b!.wss.on('connection', (ws: WebSocket) => serverSide.push(ws));
    const sender = await openPlain(t, a!.url);
    const neighbour = await openPlain(t, a!.url);
    const remote = await openPlain(t, b!.url);
    await until(() => serverSide.length === 3, 2000, 'three connections');
    for (const ws of serverSide) ws.subscribe('chat');
    // Let the SUBSCRIBEs reach Redis.
    await until(() => a!.adapter.counters.channels === 1 && b!.adapter.counters.channels === 1, 2000, 'channels');
    await a!.wss.position('chat');
    await b!.wss.position('chat');
    serverSide[0]!.publish('chat', 'from the sender');
    await until(() => neighbour.messages.length === 1 && remote.messages.length === 1, 5000, 'delivery');
    assert.equal(neighbour.messages[0]!.data.toString(), 'from the sender');
    assert.equal(remote.messages[0]!.data.toString(), 'from the sender');
    a!.wss.publish('chat', 'marker');
    await until(() => sender.messages.length === 1, 5000, 'the marker');
    assert.deepEqual(sender.messages.map((m) => m.data.toString()), ['marker'], 'the sender never got its own message');
  });

  void test('a new topic gets one epoch everywhere, and positions agree', async (t) => {
    if (!(await needRedis(t))) return;
    const [a, b] = await nodes(t, 2);
    const pa = await a!.wss.position('fresh');
    const pb = await b!.wss.position('fresh');
    assert.deepEqual(pa, pb);
    assert.equal(pa.offset, 0);
    b!.wss.publish('fresh', 1);
    await until(() => b!.adapter.counters.published === 1, 5000, 'the publish');
    const after = await a!.wss.position('fresh');
    assert.deepEqual(after, { epoch: pa.epoch, offset: 1 });
  });

  void test('a client that moves to another node resumes from its offset (exactly the missed messages)', async (t) => {
    if (!(await needRedis(t))) return;
    const [a, b] = await nodes(t, 2);
    const first = await V1Client.open(t, a!.url);
    await first.subscribe('feed');
    for (let i = 1; i <= 50; i++) b!.wss.publish('feed', { seq: i });
    await until(() => first.msgs('feed').length === 50, 5000, 'the first 50');
    const last = first.msgs('feed').at(-1)!;
    first.ws.terminate();
    await first.closed;
    for (let i = 51; i <= 80; i++) a!.wss.publish('feed', { seq: i });
    // Wait until Redis has them all (publishes are asynchronous).
    await until(() => a!.adapter.counters.published >= 30, 5000, 'publishes done');
    const second = await V1Client.open(t, b!.url);
    const subok = await second.subscribe('feed', { since: { epoch: last.epoch, offset: last.offset } });
    assert.equal(subok.recovered, true);
    assert.equal(subok.epoch, last.epoch);
    await until(() => second.msgs('feed').length >= 30, 5000, 'the missed 30');
    const missed = second.msgs('feed');
    assert.deepEqual(missed.map((m) => m.offset), Array.from({ length: 30 }, (_, k) => 51 + k));
    assert.deepEqual(missed.map((m) => (m.data as { seq: number }).seq), Array.from({ length: 30 }, (_, k) => 51 + k));
    b!.wss.publish('feed', { seq: 81 });
    await until(() => second.msgs('feed').length === 31, 5000, 'live again');
    assert.equal(second.msgs('feed').at(-1)!.offset, 81);
  });

  void test('resuming past what history keeps, or from another epoch, is recovered: false', async (t) => {
    if (!(await needRedis(t))) return;
    const [a, b] = await nodes(t, 2);
    const c = await V1Client.open(t, a!.url);
    await c.subscribe('short');
    const epoch = (c.received.find((e) => e.t === 'subok')!).epoch as string;
    const other = await V1Client.open(t, b!.url);
    const wrongEpoch = await other.subscribe('short', { since: { epoch: 'not-the-epoch', offset: 0 } });
    assert.equal(wrongEpoch.recovered, false);
    const future = await other.subscribe('short', { since: { epoch, offset: 99 } });
    assert.equal(future.recovered, false);
  });

  void test('history is trimmed by count in Redis: a resume from before the kept window is refused', async (t) => {
    if (!(await needRedis(t))) return;
    const keyPrefix = uniquePrefix('trim');
    t.after(() => deleteKeys(SHARED_REDIS_URL, keyPrefix));
    const adapterA = new RedisAdapter({ url: SHARED_REDIS_URL, keyPrefix });
    const adapterB = new RedisAdapter({ url: SHARED_REDIS_URL, keyPrefix });
    await adapterA.connect();
    await adapterB.connect();
    t.after(async () => { await adapterA.close(); await adapterB.close(); });
    const a = await startRealtime(t, { realtime: { adapter: adapterA, history: { maxCount: 10 } } });
    const b = await startRealtime(t, { realtime: { adapter: adapterB, history: { maxCount: 10 } } });
    const c = await V1Client.open(t, a.url);
    await c.subscribe('t');
    for (let i = 1; i <= 30; i++) a.wss.publish('t', i);
    await until(() => c.msgs('t').length === 30, 5000, '30 messages');
    const epoch = c.msgs('t')[0]!.epoch;
    const late = await V1Client.open(t, b.url);
    assert.equal((await late.subscribe('t', { since: { epoch, offset: 5 } })).recovered, false, 'offset 6 is gone');
    const ok = await late.subscribe('t', { since: { epoch, offset: 20 } });
    assert.equal(ok.recovered, true, 'offsets 21–30 are kept');
    await until(() => late.msgs('t').length === 10, 5000, 'the ten kept');
    assert.deepEqual(late.msgs('t').map((m: Msg) => m.data), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  });

  void test('presence is one set across nodes: join on the first connection, leave on the last', async (t) => {
    if (!(await needRedis(t))) return;
    const [a, b] = await nodes(t, 2);
    const watcher = await V1Client.open(t, b!.url);
    await watcher.subscribe('lobby');
    const ann1 = await V1Client.open(t, a!.url);
    await ann1.subscribe('lobby', { presence: { name: 'Ann' } });
    const join = await watcher.waitFor((e) => e.t === 'pres' && e.event === 'join');
    const annUser = (join.member as { user: string }).user;
    assert.deepEqual((join.member as { info: unknown }).info, { name: 'Ann' });
    const members = await b!.wss.presence('lobby');
    assert.deepEqual(members.map((m) => m.info), [{ name: 'Ann' }]);
    assert.equal(members[0]!.user, annUser);
    const listed = await watcher.call({ t: 'presence', topic: 'lobby' });
    assert.equal((listed.members as unknown[]).length, 1);
    ann1.ws.close();
    await watcher.waitFor((e) => e.t === 'pres' && e.event === 'leave');
    assert.deepEqual(await a!.wss.presence('lobby'), []);
  });

  void test('a node that stopped beating is swept: its members leave on the other nodes', async (t) => {
    if (!(await needRedis(t))) return;
    const keyPrefix = uniquePrefix('dead');
    const [survivor] = await nodes(t, 1, { keyPrefix, presenceTtlMs: 400 });
    const watcher = await V1Client.open(t, survivor!.url);
    await watcher.subscribe('room');
    // A node that made a member present and died before its first heartbeat: exactly what a
    // SIGKILLed node leaves behind once its heartbeat key has expired (the 3-process test kills one).
    const redis = await rawRedis(t);
    const keys = new Keys(keyPrefix);
    const json = JSON.stringify({ user: 'ghost', conn: 'g.1', info: null });
    await redis.sendCommand(['EVAL', SCRIPTS.join.source, '5', keys.presence('room'), keys.presenceUsers('room'), keys.nodeConnections('ghost-node'), keys.presenceSequence('room'), keys.nodes, 'g.1', 'ghost', json, 'room', keys.channel('room'), 'ghost-node']);
    const join = await watcher.waitFor((e) => e.t === 'pres' && e.event === 'join');
    assert.equal((join.member as { user: string }).user, 'ghost');
    const began = performance.now();
    const leave = await watcher.waitFor((e) => e.t === 'pres' && e.event === 'leave', 5000);
    assert.equal((leave.member as { user: string }).user, 'ghost');
    const took = performance.now() - began;
    assert.ok(took < 400 * 1.5 + 500, `left after ${Math.round(took)} ms`);
    assert.deepEqual(await survivor!.wss.presence('room'), []);
    assert.equal(survivor!.adapter.counters.presenceSwept, 1);
    assert.equal(Number(await redis.sendCommand(['SISMEMBER', keys.nodes, 'ghost-node'])), 0, 'the dead node is forgotten');
  });

  void test('Redis traffic follows local subscribers: a node subscribes only to topics it has subscribers for', async (t) => {
    if (!(await needRedis(t))) return;
    const keyPrefix = uniquePrefix('traffic');
    const [a, b] = await nodes(t, 2, { keyPrefix });
    const redis = await rawRedis(t);
    const numsub = async (topic: string): Promise<number> => {
      const reply = await redis.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', `${keyPrefix}c:${topic}`]);
      return Number(reply[1]);
    };
    for (let i = 0; i < 20; i++) a!.wss.publish(`quiet-${i}`, i);
    await until(() => a!.adapter.counters.published === 20, 5000, 'publishes');
    assert.equal(await numsub('quiet-0'), 0, 'nobody listens to a topic without subscribers');
    assert.equal(b!.adapter.counters.channels, 0);
    const c = await V1Client.open(t, b!.url);
    await c.subscribe('busy');
    assert.equal(await numsub('busy'), 1, 'only the node with the subscriber');
    assert.equal(b!.adapter.counters.channels, 1);
    assert.equal(a!.adapter.counters.channels, 0);
    await c.call({ t: 'unsub', topic: 'busy' });
    await until(() => b!.adapter.counters.channels === 0, 2000, 'channel released');
    let n = 1;
    for (let i = 0; i < 50 && n !== 0; i++) n = await numsub('busy');
    assert.equal(n, 0);
  });
  void test('garbage published on a topic\'s channel is counted and dropped; delivery goes on', async (t) => {
    if (!(await needRedis(t))) return;
    const keyPrefix = uniquePrefix('garbage');
    const [a] = await nodes(t, 1, { keyPrefix });
    const c = await V1Client.open(t, a!.url);
    await c.subscribe('g');
    const redis = await rawRedis(t);
    for (const junk of ['hello', 'm\nE\n1\n', 'p\njoin\n{not json', 'm\nE\n1\n1\nid\nt-99\nshort']) await redis.sendCommand(['PUBLISH', `${keyPrefix}c:g`, junk]);
    a!.wss.publish('g', 'real');
    await until(() => c.msgs('g').length === 1, 5000, 'the real message');
    assert.equal(c.msgs('g')[0]!.data, 'real');
    assert.equal(c.msgs('g')[0]!.offset, 1);
    assert.equal(a!.adapter.counters.badEntries, 4);
  });
  void test('one user on two nodes is one member: join on the first connection in the cluster, leave on the last', async (t) => {
    if (!(await needRedis(t))) return;
    const keyPrefix = uniquePrefix('tabs');
    t.after(() => deleteKeys(SHARED_REDIS_URL, keyPrefix));
    const events: string[] = [];
    const adapters = await Promise.all(['a', 'b'].map(async (name) => {
      const adapter = new RedisAdapter({ url: SHARED_REDIS_URL, keyPrefix });
      await adapter.connect();
      t.after(() => adapter.close());
      adapter.attach({
        deliver: () => ({ delivered: 0, dropped: 0, held: 0, closed: 0, conflated: 0 }),
        presenceChanged: (topic, event, member) => events.push(`${name} ${event} ${member.user} ${member.conn}`),
        gap: () => {},
      });
      adapter.watch('t', true);
      await adapter.position('t', DEFAULT_HISTORY_LIMITS);
      return adapter;
    }));
    const [a, b] = adapters as [RedisAdapter, RedisAdapter];
    await a.join('t', { user: 'ann', conn: 'a.1', info: 'laptop' });
    await b.join('t', { user: 'ann', conn: 'b.1', info: 'phone' });
    await until(() => events.length >= 2, 2000, 'the join on both nodes');
    assert.deepEqual(events.sort(), ['a join ann a.1', 'b join ann a.1']);
    assert.deepEqual(await b.members('t'), [{ user: 'ann', conn: 'a.1', info: 'laptop' }], 'one member: the earliest connection');
    await a.leave('t', { user: 'ann', conn: 'a.1', info: 'laptop' });
    assert.deepEqual(await a.members('t'), [{ user: 'ann', conn: 'b.1', info: 'phone' }], 'still present through the other node');
    await b.leave('t', { user: 'ann', conn: 'b.1', info: 'phone' });
    await until(() => events.length >= 4, 2000, 'the leave on both nodes');
    assert.deepEqual(events.slice(2).sort(), ['a leave ann b.1', 'b leave ann b.1']);
    assert.deepEqual(await a.members('t'), []);
  });
  void test('an application\'s own node-redis client works, and stays open after the adapter closes', async (t) => {
    if (!(await needRedis(t))) return;
    const keyPrefix = uniquePrefix('own-client');
    t.after(() => deleteKeys(SHARED_REDIS_URL, keyPrefix));
    const client = createClient({ url: SHARED_REDIS_URL, disableOfflineQueue: true });
    client.on('error', () => {});
    await client.connect();
    t.after(() => client.destroy());
    const adapter = new RedisAdapter({ client, keyPrefix });
    await adapter.connect();
    const other = await startNode(t, { keyPrefix });
    const server = await startRealtime(t, { realtime: { adapter } });
    const c = await V1Client.open(t, other.url);
    await c.subscribe('x');
    server.wss.publish('x', 'via the application\'s client');
    await until(() => c.msgs('x').length === 1, 5000, 'delivery');
    assert.equal(c.msgs('x')[0]!.data, 'via the application\'s client');
    await adapter.close();
    assert.equal(client.isOpen, true, 'the adapter does not close a client it was given');
    assert.equal(await client.sendCommand(['PING']), 'PONG');
  });
});

void describe('RedisAdapter reconnect storms', () => {
  void test('resumes of one topic arriving together share one history read, and each gets exactly its own missed messages', async (t) => {
    if (!(await needRedis(t))) return;
    const [a] = await nodes(t, 1, { topicTtlMs: 60_000 });
    const keeper = await V1Client.open(t, a!.url);
    await keeper.subscribe('storm');
    for (let i = 1; i <= 40; i++) a!.wss.publish('storm', i);
    await until(() => keeper.msgs('storm').length === 40, 5000, 'the 40 messages');
    const epoch = keeper.msgs('storm')[0]!.epoch;
    const clients: V1Client[] = [];
    for (let i = 0; i < 30; i++) clients.push(await V1Client.open(t, a!.url));
    // Mixed requests: resumes from different offsets, one from another epoch, one already current,
    // one fresh subscription.
    const since = (i: number): Record<string, unknown> | undefined => (i === 0 ? { epoch: 'another', offset: 3 } : i === 1 ? { epoch, offset: 40 } : i === 2 ? undefined : { epoch, offset: i });
    const reads = a!.adapter.counters.historyReads;
    const replies = await Promise.all(clients.map((c, i) => c.subscribe('storm', since(i) === undefined ? {} : { since: since(i) })));
    assert.ok(a!.adapter.counters.historyReads - reads <= 2, `30 resumes took ${a!.adapter.counters.historyReads - reads} reads`);
    assert.ok(a!.adapter.counters.historyReadsShared >= 28);
    assert.equal(replies[0]!.recovered, false, 'another epoch: recovered false');
    assert.equal(replies[1]!.recovered, true);
    assert.equal(replies[2]!.recovered, undefined, 'a fresh subscription');
    for (let i = 3; i < clients.length; i++) assert.equal(replies[i]!.recovered, true, `client ${i}`);
    await until(() => clients.slice(3).every((c, j) => c.msgs('storm').length === 40 - (j + 3)), 5000, 'the replays');
    clients.slice(3).forEach((c, j) => {
      assert.deepEqual(c.msgs('storm').map((m) => m.offset), Array.from({ length: 40 - (j + 3) }, (_, k) => j + 4 + k), `client ${j + 3} got exactly what it missed`);
    });
    assert.equal(clients[1]!.msgs('storm').length, 0);
  });
});

void describe('RedisAdapter options', () => {
  void test('whenUnreachable is local or refuse; anything else is a RangeError at construction', () => {
    assert.throws(() => new RedisAdapter({ whenUnreachable: 'drop' as never }), /whenUnreachable must be 'local' or 'refuse'/);
    assert.throws(() => new RedisAdapter({ whenUnreachable: 'drop' as never }), RangeError);
    for (const whenUnreachable of ['local', 'refuse'] as const) void new RedisAdapter({ whenUnreachable }).close();
  });

  void test('bad reconnect delays are a RangeError at construction, for one Redis and for a cluster', () => {
    assert.throws(() => new RedisAdapter({ reconnect: { minMs: 0 } }), RangeError);
    assert.throws(() => new RedisAdapter({ cluster: { rootNodes: ['redis://127.0.0.1:1'] }, reconnect: { minMs: 0 } }), RangeError);
  });
});

