/**
 * Operators see the cluster adapter's faults (issue 17): `parley serve` on Redis logs an outage
 * at warn and the recovery at info (with `component: redis`), and /metrics counts outages,
 * local publishes and the gaps announced when Redis is back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrivateRedis, needRedisServer, uniquePrefix } from '../redis/support.js';
import { request, serve, until } from './helpers.js';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

void test('a Redis outage and its recovery are logged and counted in /metrics', async (t) => {
  if (!(await needRedisServer(t))) return;
  const redis = await PrivateRedis.start(t);
  const s = await serve(t, { cluster: { adapter: 'redis', redisUrl: redis.url, keyPrefix: uniquePrefix('faults') } });
  const before = (await request(s.port, 'GET', '/metrics')).text;
  assert.equal(metric(before, 'parley_adapter_outages_total'), 0);
  assert.equal(metric(before, 'parley_adapter_gaps_announced_total'), 0);

  const redisLines = (level: string, text: string): number => s.logs.lines.filter((l) => l.component === 'redis' && l.level === level && String(l.msg).includes(text)).length;
  redis.stop();
  await until(() => redisLines('warn', 'Redis unreachable') > 0, 10_000, 'the outage in the log');
  // Published while Redis is away: delivered here only, and announced as a gap once it is back.
  s.handle.wss.publish('news', 'during the outage');
  await until(() => redisLines('warn', 'publishing locally') > 0, 5000, 'the local publish in the log');
  await redis.restart();
  await until(() => redisLines('info', 'Redis reachable') > 0, 15_000, 'the recovery in the log');
  await until(() => redisLines('warn', 'announced a gap to every node') > 0, 5000, 'the announced gap in the log');

  const after = (await request(s.port, 'GET', '/metrics')).text;
  assert.equal(metric(after, 'parley_adapter_outages_total'), 1);
  assert.equal(metric(after, 'parley_adapter_published_locally_total'), 1);
  assert.equal(metric(after, 'parley_adapter_gaps_announced_total'), 1);
  assert.ok(metric(after, 'parley_adapter_reconnect_attempts_total') >= 1);
  assert.equal(metric(after, 'parley_adapter_healthy{adapter="redis"}'), 1);
});
