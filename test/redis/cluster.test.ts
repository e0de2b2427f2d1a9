/**
 * Three Parley server processes on one Redis (each test has its own redis-server on a spare
 * port, so it can restart it), with clients on each: the cluster behaves as one server.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from '../../src/index.js';
import { ParleyClient } from '../../src/client/index.js';
import { V1Client, until } from '../realtime/helpers.js';
import { PrivateRedis, needRedisServer, startNodeProcess, uniquePrefix, type NodeProcess } from './support.js';

async function cluster(t: TestContext, env: Record<string, string> = {}): Promise<{ redis: PrivateRedis; nodes: NodeProcess[] }> {
  const redis = await PrivateRedis.start(t);
  const keyPrefix = uniquePrefix('cluster');
  const nodes = await Promise.all([0, 1, 2].map(() => startNodeProcess(t, redis.url, { KEY_PREFIX: keyPrefix, ...env })));
  return { redis, nodes };
}

void describe('three Parley processes on one Redis', () => {
  void test('publishes from each node arrive exactly once and in one order on every client of every node', async (t) => {
    if (!(await needRedisServer(t))) return;
    const { nodes } = await cluster(t);
    const clients: V1Client[] = [];
    for (const node of nodes) for (let k = 0; k < 2; k++) clients.push(await V1Client.open(t, node.url));
    for (const c of clients) assert.equal((await c.subscribe('room')).t, 'subok');
    const PER_CLIENT = 50;
    for (let i = 0; i < PER_CLIENT; i++) clients.forEach((c, n) => c.send({ t: 'pub', topic: 'room', data: { from: n, i } }));
    const total = PER_CLIENT * clients.length;
    await until(() => clients.every((c) => c.msgs('room').length >= total), 15_000, 'every message on every client');
    const reference = clients[0]!.msgs('room').map((m) => JSON.stringify([m.epoch, m.offset, m.data]));
    assert.equal(new Set(reference).size, total, 'no duplicates');
    assert.deepEqual(clients[0]!.msgs('room').map((m) => m.offset), Array.from({ length: total }, (_, k) => k + 1));
    for (const c of clients) {
      assert.equal(c.msgs('room').length, total, 'exactly once');
      assert.deepEqual(c.msgs('room').map((m) => JSON.stringify([m.epoch, m.offset, m.data])), reference, 'one order everywhere');
    }
    // Each connection's publishes keep the order it sent them in.
    clients.forEach((_, n) => {
      const mine = clients[0]!.msgs('room').map((m) => m.data as { from: number; i: number }).filter((d) => d.from === n).map((d) => d.i);
      assert.deepEqual(mine, Array.from({ length: PER_CLIENT }, (_, k) => k));
    });
  });

  void test('a client moved from one node to another recovers exactly what it missed', async (t) => {
    if (!(await needRedisServer(t))) return;
    const { nodes } = await cluster(t);
    const publisher = await V1Client.open(t, nodes[2]!.url);
    const mover = await V1Client.open(t, nodes[0]!.url);
    await mover.subscribe('feed');
    for (let i = 1; i <= 40; i++) publisher.send({ t: 'pub', topic: 'feed', data: i });
    await until(() => mover.msgs('feed').length === 40, 5000, 'the first 40');
    const last = mover.msgs('feed').at(-1)!;
    mover.ws.terminate();
    await mover.closed;
    for (let i = 41; i <= 70; i++) publisher.send({ t: 'pub', topic: 'feed', data: i });
    const done = await publisher.call({ t: 'pub', topic: 'feed', data: 71 });
    assert.equal(done.offset, 71);
    const moved = await V1Client.open(t, nodes[1]!.url);
    const subok = await moved.subscribe('feed', { since: { epoch: last.epoch, offset: last.offset } });
    assert.equal(subok.recovered, true);
    await until(() => moved.msgs('feed').length === 31, 5000, 'the missed 31');
    assert.deepEqual(moved.msgs('feed').map((m) => [m.offset, m.data]), Array.from({ length: 31 }, (_, k) => [41 + k, 41 + k]));
    publisher.send({ t: 'pub', topic: 'feed', data: 72 });
    await until(() => moved.msgs('feed').length === 32, 5000, 'live on the new node');
  });

  void test('a node killed with SIGKILL disappears from presence within 1.5 × the heartbeat TTL', async (t) => {
    if (!(await needRedisServer(t))) return;
    const TTL = 1000;
    const { nodes } = await cluster(t, { PRESENCE_TTL_MS: String(TTL) });
    const watcher = await V1Client.open(t, nodes[0]!.url);
    await watcher.subscribe('lobby', { presence: { name: 'watcher' } });
    const doomed = await V1Client.open(t, nodes[2]!.url);
    await doomed.subscribe('lobby', { presence: { name: 'doomed' } });
    const other = await V1Client.open(t, nodes[1]!.url);
    await other.subscribe('lobby', { presence: { name: 'other' } });
    await until(() => watcher.ofType('pres').length >= 3, 5000, 'three joins seen (its own too)');
    const listed = await watcher.call({ t: 'presence', topic: 'lobby' });
    assert.deepEqual((listed.members as Array<{ info: { name: string } }>).map((m) => m.info.name).sort(), ['doomed', 'other', 'watcher']);
    const killedAt = performance.now();
    nodes[2]!.child.kill('SIGKILL');
    const leave = await watcher.waitFor((e) => e.t === 'pres' && e.event === 'leave', 5000);
    const took = performance.now() - killedAt;
    assert.deepEqual((leave.member as { info: unknown }).info, { name: 'doomed' });
    // TTL + TTL/2 is the bound; another TTL of slack for a loaded machine's timers.
    assert.ok(took <= TTL * 2.5, `left ${Math.round(took)} ms after the kill`);
    const after = await other.call({ t: 'presence', topic: 'lobby' });
    assert.deepEqual((after.members as Array<{ info: { name: string } }>).map((m) => m.info.name).sort(), ['other', 'watcher']);
  });

  void test('Redis restarted mid-stream: every client has every message, or was told it cannot (reset)', async (t) => {
    if (!(await needRedisServer(t))) return;
    const { redis, nodes } = await cluster(t, { COMMAND_TIMEOUT_MS: '300', HEALTH_CHECK_MS: '100' });
    interface Watch { client: ParleyClient; seen: string[]; resets: number; resetAt: number[]; positions: Array<[string, number]> }
    const watches: Watch[] = [];
    for (const node of nodes) {
      for (let k = 0; k < 2; k++) {
        const client = new ParleyClient(node.url, { WebSocket });
        t.after(() => client.close());
        const w: Watch = { client, seen: [], resets: 0, resetAt: [], positions: [] };
        const sub = client.subscribe('stream', (data, info) => {
          w.seen.push(data as string);
          w.positions.push([info.epoch, info.offset]);
        });
        sub.on('reset', () => {
          w.resets++;
          w.resetAt.push(w.seen.length);
        });
        await sub.ready();
        watches.push(w);
      }
    }
    const publishers = nodes.map((node) => {
      const c = new ParleyClient(node.url, { WebSocket });
      t.after(() => c.close());
      return c;
    });
    const published: string[] = [];
    let stop = false;
    const pumping = (async () => {
      for (let i = 0; !stop; i++) {
        await Promise.all(publishers.map(async (p, n) => {
          const value = `${n}:${i}`;
          published.push(value);
          await p.publish('stream', value, { ack: true }).catch(() => {});
        }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await until(() => published.length >= 60, 5000, 'some traffic');
    redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await redis.restart();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await pumping;
    const final = 'final';
    await publishers[0]!.publish('stream', final, { ack: true });
    await until(() => watches.every((w) => w.seen.includes(final)), 10_000, 'the final message everywhere');
    for (const w of watches) {
      const missing = published.filter((v) => !w.seen.includes(v));
      if (w.resets === 0) assert.deepEqual(missing, [], 'a client never told of a gap has every message');
      // A skipped offset or a new epoch is always preceded by a reset: never a silent gap.
      for (let i = 1; i < w.positions.length; i++) {
        const [e0, o0] = w.positions[i - 1]!;
        const [e1, o1] = w.positions[i]!;
        if (e1 !== e0 || o1 !== o0 + 1) assert.ok(w.resetAt.includes(i), `a jump from ${e0}/${o0} to ${e1}/${o1} came with a reset`);
      }
      const keys = w.positions.map(([e, o]) => `${e}/${o}`);
      assert.equal(new Set(keys).size, keys.length, 'no message delivered twice');
    }
    assert.ok(watches.some((w) => w.resets > 0), 'the restart lost Redis\'s data, which clients must hear');
    assert.ok(nodes.some((n) => n.log.some((l) => l.startsWith('warn: Redis unreachable'))), 'the outage is in the logs');
  });
});
