/**
 * Adapter loading: the configured in-memory adapter is the server's own (closed with it); a given
 * one is shared (named so, never closed by the server). An app's own adapter is in-memory on one
 * server, and on Redis a Redis one under the app's prefix, apart from the server's topics; on a
 * Redis Cluster the app is handed the cluster's nodes (not `cluster.redisUrl`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/server/logger.js';
import { InMemoryAdapter } from '../../src/index.js';
import { DEFAULT_HISTORY_LIMITS } from '../../src/pubsub/history.js';
import { TopicMessage } from '../../src/pubsub/message.js';
import { loadAdapter, loadAppAdapter } from '../../src/server/adapter-loader.js';
import { needRedis, needRedisClusterTools, PrivateCluster, SHARED_REDIS_URL, uniquePrefix } from '../redis/support.js';
import { defaultConfig } from '../../src/server/config.js';

const log = createLogger('silent');

void test('cluster.adapter memory: an in-memory adapter the server owns and closes', async () => {
  const loaded = await loadAdapter(defaultConfig().cluster, log);
  assert.ok(loaded.adapter instanceof InMemoryAdapter);
  assert.equal(loaded.owned, true);
  assert.equal(loaded.kind, 'memory');
  assert.equal(loaded.healthy(), undefined, 'the in-memory adapter cannot tell');
  await loaded.close();
});

void test('a given adapter is shared: reported as such and left open by close()', async () => {
  const given = new InMemoryAdapter();
  let closed = 0;
  const close = given.close.bind(given);
  given.close = () => {
    closed++;
    close();
  };
  const loaded = await loadAdapter(defaultConfig({ cluster: { adapter: 'redis' } }).cluster, log, given);
  assert.equal(loaded.adapter, given, 'no Redis is loaded when an adapter is given');
  assert.equal(loaded.owned, false);
  assert.equal(loaded.kind, 'shared');
  await loaded.close();
  assert.equal(closed, 0);
  given.close();
});

void test('an app on one server: an in-memory adapter and no Redis', async () => {
  const loaded = await loadAppAdapter(defaultConfig().cluster, 'poker', log);
  assert.ok(loaded.adapter instanceof InMemoryAdapter);
  assert.equal(loaded.redis, undefined);
  void loaded.adapter.close();
});

void test('an app on Redis: its prefix under the cluster\'s, and one topic for the app on every server, apart from the server\'s topics', async (t) => {
  if (!(await needRedis(t))) return;
  const keyPrefix = uniquePrefix('app-adapter');
  const cluster = defaultConfig({ cluster: { adapter: 'redis', redisUrl: SHARED_REDIS_URL, keyPrefix } }).cluster;
  const server = await loadAdapter(cluster, log);
  const mine = await loadAppAdapter(cluster, 'poker', log);
  const other = await loadAppAdapter(cluster, 'poker', log);
  t.after(async () => {
    await Promise.all([server.close(), mine.adapter.close(), other.adapter.close()]);
  });
  assert.deepEqual(mine.redis, { url: SHARED_REDIS_URL, keyPrefix: `${keyPrefix}apps:poker:` });
  assert.ok(!(mine.adapter instanceof InMemoryAdapter));
  // The app's topic `t` is one topic for the app on every server, and not the servers' `t`.
  const before = await other.adapter.position('t', DEFAULT_HISTORY_LIMITS);
  await mine.adapter.publish(new TopicMessage('t', 'hello'), DEFAULT_HISTORY_LIMITS);
  assert.equal((await other.adapter.position('t', DEFAULT_HISTORY_LIMITS)).offset, before.offset + 1);
  assert.equal((await server.adapter.position('t', DEFAULT_HISTORY_LIMITS)).offset, 0, 'the server\'s topic of the same name is another topic');
});

void test('an app on a Redis Cluster is handed the cluster\'s nodes, and its adapter runs on the cluster', { timeout: 60_000 }, async (t) => {
  if (!needRedisClusterTools(t)) return;
  const redisCluster = await PrivateCluster.start(t);
  const keyPrefix = uniquePrefix('app-adapter-cluster');
  // redisUrl points nowhere: everything must go to the cluster's nodes.
  const cluster = defaultConfig({ cluster: { adapter: 'redis', redisUrl: 'redis://127.0.0.1:1', redisClusterNodes: redisCluster.rootNodes, keyPrefix } }).cluster;
  const app = await loadAppAdapter(cluster, 'poker', log);
  t.after(() => app.adapter.close());
  assert.deepEqual(app.redis, { url: 'redis://127.0.0.1:1', keyPrefix: `${keyPrefix}apps:poker:`, clusterNodes: redisCluster.rootNodes });
  const before = await app.adapter.position('t', DEFAULT_HISTORY_LIMITS);
  await app.adapter.publish(new TopicMessage('t', 'hello'), DEFAULT_HISTORY_LIMITS);
  assert.equal((await app.adapter.position('t', DEFAULT_HISTORY_LIMITS)).offset, before.offset + 1);
});
