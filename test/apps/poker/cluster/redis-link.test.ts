/**
 * Poker's Redis link on a real Redis Cluster (three masters, one replica each, started on spare
 * ports by this file): two TableCluster nodes in this process, each with its own cluster link,
 * share a table. A change asked for on the replica is forwarded over a shard channel, applied by
 * the owner, stored by the SAVE script (two keys, one hash slot) and seen by the replica through
 * the plain state channel; when the owner closes, the other takes the lease over with the state.
 * Without redis-server and redis-cli the tests skip (fail under CI=true).
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { connectRedis, type RedisLink } from '../../../../src/apps/poker/cluster/redis-link.js';
import { TableCluster } from '../../../../src/apps/poker/cluster/table-cluster.js';
import { SharedSessions } from '../../../../src/apps/poker/cluster/shared-sessions.js';
import { SessionStore } from '../../../../src/apps/poker/sessions.js';
import type { RoomDeps } from '../../../../src/apps/poker/room.js';
import type { TableConfig } from '../../../../src/apps/poker/engine/hand-state.js';
import { PrivateCluster, needRedisClusterTools, redisCli, uniquePrefix } from '../../../redis/support.js';
import { until } from '../helpers.js';

const TABLE: TableConfig = { id: 'heads-up', name: 'Heads-Up', seats: 2, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 30_000 };
const T = { timeout: 90_000 };

let started: Promise<PrivateCluster> | undefined;
/** The file's cluster, started by the first test that needs it. */
function theCluster(): Promise<PrivateCluster> {
  return (started ??= PrivateCluster.start());
}
after(async () => {
  if (started !== undefined) (await started.catch(() => undefined))?.stop();
});

const deps: Omit<RoomDeps, 'store'> = {
  publish: () => {},
  randomInt: (n) => randomInt(n),
  clock: { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  // No hand starts during the test: the seats are what it watches.
  handPauseMs: 5000, startDelayMs: 3_600_000, idleSeatMs: 3_600_000,
  onChange: () => {},
  log: () => {},
};

async function link(t: TestContext, cluster: PrivateCluster, closeAfter = true): Promise<RedisLink> {
  const redis = await connectRedis({ url: 'redis://127.0.0.1:1', clusterNodes: cluster.rootNodes }, () => {});
  if (closeAfter) t.after(() => redis.close());
  return redis;
}

/** A poker node on the cluster (closed after the test unless the test closes it). */
async function node(t: TestContext, cluster: PrivateCluster, keyPrefix: string): Promise<TableCluster> {
  // A lease of 3 s: with 600 ms a loaded machine (three test files at a time) let the owner's
  // renewal come late, so the table was between owners when the test forwarded a change to it.
  const redis = await link(t, cluster, false);
  const tables = new TableCluster([TABLE], deps, redis, { keyPrefix, leaseMs: 3000, requestTimeoutMs: 5000 });
  // The node first (it releases its lease through the link), then its link.
  t.after(async () => {
    await tables.close();
    redis.close();
  });
  await tables.start();
  return tables;
}

async function slotOf(cluster: PrivateCluster, key: string): Promise<number> {
  return Number((await redisCli(['-p', String(cluster.running[0]), 'CLUSTER', 'KEYSLOT', key])).trim());
}

void describe('poker on a Redis Cluster', () => {
  void test('a change forwarded by the replica is applied by the owner and seen by both; the lease moves when the owner closes', T, async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const keyPrefix = `${uniquePrefix('poker-cluster')}apps:poker:`;
    const a = await node(t, cluster, keyPrefix);
    const b = await node(t, cluster, keyPrefix);
    assert.ok(a.owns(TABLE.id), 'the first node up takes the table');
    assert.ok(!b.owns(TABLE.id));

    // The table's keys are hash-tagged into one slot (ACQUIRE and SAVE touch two of them).
    const names = ['lease', 'table', 'fence'].map((kind) => `${keyPrefix}${kind}:{${TABLE.id}}`);
    assert.equal(new Set(await Promise.all(names.map((name) => slotOf(cluster, name)))).size, 1);
    const master = await cluster.masterOf(names[0]!);
    assert.match(await redisCli(['-p', String(master), 'GET', names[0]!]), new RegExp(`^${a.nodeId}/\\d+`), 'the lease is under the tagged name');

    await b.run(TABLE.id, { kind: 'sit', user: 'u-ada', name: 'Ada', seat: 0, buyIn: 100 });
    const seated = (tables: TableCluster): string | undefined => tables.rooms.get(TABLE.id)?.table.seats[0]?.user;
    assert.equal(seated(a), 'u-ada', 'the owner applied the forwarded change');
    await until(() => seated(b) === 'u-ada', 'the replica sees the stored state');
    assert.match(await redisCli(['-p', String(master), 'GET', names[1]!]), /"u-ada"/, 'the state is stored under the tagged name');

    // A change on the owner reaches the replica too.
    await a.run(TABLE.id, { kind: 'sit', user: 'u-bo', name: 'Bo', seat: 1, buyIn: 100 });
    await until(() => b.rooms.get(TABLE.id)?.table.seats[1]?.user === 'u-bo', 'the replica sees the owner\u2019s change');

    // The owner stops: it releases the lease, the other takes the table over with its state.
    await a.close();
    await until(() => b.owns(TABLE.id), 'the other node takes the lease over', 10_000);
    assert.equal(seated(b), 'u-ada');
    assert.equal(b.rooms.get(TABLE.id)?.table.seats[1]?.user, 'u-bo');
    await b.run(TABLE.id, { kind: 'leave', user: 'u-bo' });
    assert.equal(b.rooms.get(TABLE.id)?.table.seats[1], null, 'the new owner applies changes itself');
  });

  void test('a forward with no owner is TABLE_MOVED at once (a shard channel counts every subscriber)', T, async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const keyPrefix = `${uniquePrefix('poker-moved')}apps:poker:`;
    // Someone else holds the lease, and subscribes to nothing: no server runs the table.
    const other = await link(t, cluster);
    const lease = `${keyPrefix}lease:{${TABLE.id}}`;
    assert.equal(await other.command(['SET', lease, 'gone/1', 'PX', '60000'], lease), 'OK');
    const b = await node(t, cluster, keyPrefix);
    assert.ok(!b.owns(TABLE.id));
    await assert.rejects(Promise.resolve(b.run(TABLE.id, { kind: 'sit', user: 'u-ada', name: 'Ada', seat: 0, buyIn: 100 })), { code: 'TABLE_MOVED' });
  });

  void test('sessions made on one node are found by another, keys routed by the cluster', T, async (t) => {
    if (!needRedisClusterTools(t)) return;
    const cluster = await theCluster();
    const prefix = `${uniquePrefix('poker-sessions')}apps:poker:session:`;
    const one = new SharedSessions(new SessionStore(), await link(t, cluster), prefix, 60_000);
    const two = new SharedSessions(new SessionStore(), await link(t, cluster), prefix, 60_000);
    const tokens = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => c.repeat(43));
    for (const [i, token] of tokens.entries()) await one.save({ token, user: `u${i}`, name: `N${i}` });
    for (const [i, token] of tokens.entries()) assert.deepEqual(await two.get(token, true), { token, user: `u${i}`, name: `N${i}` });
  });
});

void describe('poker Redis link closed', () => {
  void test('a command after close is refused at once instead of waiting for a connection that never comes', T, async (t) => {
    if (!needRedisClusterTools(t)) return;
    const redis = await link(t, await theCluster(), false);
    redis.close();
    await assert.rejects(redis.command(['GET', 'k'], 'k'), /closed/);
    await assert.rejects(redis.publish('c', 'm', true), /closed/);
  });
});
