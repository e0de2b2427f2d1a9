import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, resolveBackoff } from '../../src/redis/backoff.js';

void describe('redis reconnect backoff', () => {
  void test('doubles from the minimum up to the maximum, half of each step random', () => {
    const bounds = resolveBackoff({ minMs: 100, maxMs: 1000 });
    assert.equal(backoffDelay(0, bounds, () => 0), 50);
    assert.equal(backoffDelay(0, bounds, () => 0.999999), 100);
    assert.equal(backoffDelay(1, bounds, () => 0), 100);
    assert.equal(backoffDelay(3, bounds, () => 0.5), 600);
    assert.equal(backoffDelay(40, bounds, () => 0.999999), 1000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, bounds);
      assert.ok(d >= 200 && d <= 400, `attempt 2 waits 200–400 ms, got ${d}`);
    }
  });

  void test('bad bounds are refused at construction', () => {
    assert.throws(() => resolveBackoff({ minMs: 0 }), RangeError);
    assert.throws(() => resolveBackoff({ minMs: 500, maxMs: 100 }), RangeError);
    assert.deepEqual(resolveBackoff(), { minMs: 100, maxMs: 5000 });
  });
});
