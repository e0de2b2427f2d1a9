/**
 * The guarded call into node-redis's internal slot refresh: fakes for the guard (a client without
 * it must cost nothing, not a TypeError in every probe), and the installed node-redis, so that an
 * upgrade that drops the method fails here instead of quietly slowing failovers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCluster } from 'redis';
import { canRefreshSlots, refreshSlots } from '../../src/redis/slot-refresh.js';

void describe('refreshSlots', () => {
  void test('a client without the internal method gets no call and no error', () => {
    const start = { options: { url: 'redis://127.0.0.1:1' } };
    for (const cluster of [undefined, null, 7, {}, { _slots: undefined }, { _slots: null }, { _slots: {} }, { _slots: { rediscover: 'no' } }]) {
      assert.equal(canRefreshSlots(cluster), false, JSON.stringify(cluster));
      assert.equal(refreshSlots(cluster, start), undefined, JSON.stringify(cluster));
    }
  });

  void test('a client with it: called on its own object, with the start, and its result passed on', async () => {
    const calls: unknown[] = [];
    const slots = {
      rediscover(this: unknown, start: unknown): Promise<string> {
        calls.push(this, start);
        return Promise.resolve('read');
      },
    };
    const cluster = { _slots: slots };
    const start = { options: { url: 'redis://10.0.0.1:7000' } };
    assert.equal(canRefreshSlots(cluster), true);
    assert.equal(await refreshSlots(cluster, start), 'read');
    assert.deepEqual(calls, [slots, start]);
  });

  void test('a method of that name that throws or returns no promise: a rejection or a settled read, never a throw', async () => {
    const throwing = { _slots: { rediscover: (): never => { throw new TypeError('other contract'); } } };
    await assert.rejects(() => refreshSlots(throwing, {})!, /other contract/);
    const plain = { _slots: { rediscover: (): number => 1 } };
    assert.equal(await refreshSlots(plain, {}), 1);
  });

  void test('the installed node-redis still has it (an upgrade that drops it fails here; the adapter would fall back to MOVED)', () => {
    const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] });
    assert.equal(canRefreshSlots(cluster), true);
  });
});
