/**
 * A rolling deploy (issue 17): three `parley serve` processes on one Redis behind a balancer,
 * restarted one at a time with the graceful shutdown (1012) while clients publish. No
 * subscriber may lose a message, get one twice or need a reset, and every client comes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollingDrill } from '../../bench/drills/rolling.js';
import { needRedisServer } from './support.js';

void test('three parley serve nodes restarted one by one (1012): nothing lost or doubled, every client back, recovered without a reset', async (t) => {
  if (!(await needRedisServer(t))) return;
  const r = await rollingDrill({ subscribers: 12, settleMs: 300 });
  const { subscribers: _, ...summary } = r;
  const text = JSON.stringify(summary);
  assert.equal(r.total.received, r.total.expected, `lost messages: ${text}`);
  assert.equal(r.total.silent, 0, text);
  assert.equal(r.total.resets, 0, `history in Redis covers a restart: ${text}`);
  assert.equal(r.total.outOfOrder, 0, text);
  // A publish applied by a draining node whose `ok` was lost is re-sent to another node with the
  // same id: Redis remembers the id (docs/cluster.md, idempotent publishes), so it is never
  // applied twice.
  assert.equal(r.total.duplicates, 0, `duplicates: ${text}`);
  assert.equal(r.neverReconnected, 0, text);
  assert.ok(r.closes1012 >= 12, `every subscriber was closed with 1012 once: ${text}`);
  assert.ok(r.recoveries.recovered >= 12 && r.recoveries.reset === 0, text);
});
