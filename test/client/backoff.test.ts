import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, resolveBackoff } from '../../src/client/index.js';
import { setup } from './helpers.js';
import { sequence } from './fakes.js';

const policy = resolveBackoff();

void test('defaults: 250 ms doubling to a 10 s ceiling, half of it jitter', () => {
  assert.deepEqual(policy, { initialDelay: 250, maxDelay: 10_000, factor: 2, jitter: 0.5 });
  const noJitter = [1, 2, 3, 4, 5, 6, 7, 8, 20, 2000].map((n) => backoffDelay(n, policy, () => 0));
  assert.deepEqual(noJitter, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
});

void test('jitter keeps every delay within [base × (1 − jitter), base]', () => {
  let seed = 42;
  const lcg = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (const jitter of [0, 0.25, 0.5, 1]) {
    const p = resolveBackoff({ jitter });
    for (let attempt = 1; attempt <= 12; attempt++) {
      const base = Math.min(10_000, 250 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, p, lcg);
        assert.ok(d >= Math.floor(base * (1 - jitter)) && d <= base, `attempt ${attempt} jitter ${jitter}: ${d} outside [${base * (1 - jitter)}, ${base}]`);
      }
    }
    assert.equal(backoffDelay(3, p, () => 0.999_999), Math.round(1000 * (1 - jitter * 0.999_999)));
  }
});

void test('custom policy and validation', () => {
  const p = resolveBackoff({ initialDelay: 100, factor: 3, maxDelay: 1000, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, p)), [100, 300, 900, 1000]);
  assert.throws(() => resolveBackoff({ jitter: 1.5 }), RangeError);
  assert.throws(() => resolveBackoff({ factor: 0.5 }), RangeError);
  assert.throws(() => resolveBackoff({ initialDelay: 5000, maxDelay: 100 }), RangeError);
});

void test('the client follows the schedule: reconnecting(attempt, delay), a socket only when the delay is over', () => {
  const { client, clock, sockets } = setup({ random: sequence(0, 0.5, 1 - 1e-9, 0.2, 0) });
  const events: Array<[number, number]> = [];
  client.on('reconnecting', (attempt, delay) => events.push([attempt, delay]));
  sockets[0]!.fail();
  assert.deepEqual(events, [[1, 250]]);
  assert.equal(client.state, 'reconnecting');
  clock.advance(249);
  assert.equal(sockets.length, 1);
  clock.advance(1);
  assert.equal(sockets.length, 2);
  sockets[1]!.fail(); // attempt 2: 500 × (1 − 0.5 × 0.5) = 375
  clock.advance(375);
  sockets[2]!.fail(); // attempt 3: 1000 × (1 − 0.5 × ~1) = 500
  clock.advance(500);
  sockets[3]!.fail(); // attempt 4: 2000 × 0.9 = 1800
  assert.deepEqual(events, [[1, 250], [2, 375], [3, 500], [4, 1800]]);
  assert.equal(client.stats.reconnects, 4);
  clock.advance(1800);
  sockets[4]!.open(); // a successful connection resets the count
  sockets[4]!.drop();
  assert.deepEqual(events.at(-1), [1, 250]);
  client.close();
});

void test('reconnect: false stays closed and rejects what was pending', async () => {
  const { client, latest, clock } = setup({ reconnect: false });
  latest().open();
  const pending = client.request('slow', null);
  const closes: unknown[] = [];
  client.on('close', (info) => closes.push(info));
  latest().drop(1001, 'going away');
  await assert.rejects(pending, { code: 'CLOSED' });
  assert.deepEqual(closes, [{ code: 1001, reason: 'going away', willReconnect: false }]);
  assert.equal(client.state, 'closed');
  assert.deepEqual(clock.pending(), []);
});
