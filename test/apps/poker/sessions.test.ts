/**
 * Poker sessions under a flood (issue 22 item 7): one address may create only so many, and a full
 * store refuses new sessions rather than forget the ones real players use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPoker } from '../../../src/apps/poker/index.js';
import { SessionStore } from '../../../src/apps/poker/sessions.js';
import { InMemoryAdapter } from '../../../src/index.js';
import { createAppServer } from '../../../src/server/app-host.js';
import { FakeClock } from './helpers.js';

void test('a full store forgets the session idle longest, never one in use or recently used', () => {
  let now = 1_000_000;
  const store = new SessionStore({ max: 3, minIdleMs: 60_000, now: () => now });
  const a = store.create('Ann')!;
  const b = store.create('Bob')!;
  const c = store.create('Cy')!;
  // Full, and everyone signed in a moment ago: a newcomer is refused, nobody is signed out.
  assert.equal(store.create('Mallory'), undefined);
  assert.deepEqual([store.get(a.token), store.get(b.token), store.get(c.token)], [a, b, c]);

  // An hour later Ann is connected, Bob resumed his session, Cy has not been seen.
  now += 3_600_000;
  const release = store.connect(a.token);
  assert.equal(store.get(b.token), b);
  now += 60_000;
  const d = store.create('Dee');
  assert.ok(d !== undefined);
  assert.equal(store.get(c.token), undefined, 'Cy, idle longest, made room');
  assert.equal(store.get(a.token), a);
  assert.equal(store.get(b.token), b);
  // Ann's connection stays open: she is never the one forgotten, however long ago she connected.
  now += 10 * 3_600_000;
  assert.ok(store.create('Eve') !== undefined);
  assert.ok(store.create('Fay') !== undefined);
  assert.equal(store.get(a.token), a, 'a connected player kept her session');
  release();
  assert.equal(store.size, 3);
  assert.throws(() => new SessionStore({ max: 0 }), RangeError);
});

void test('one address may create only so many sessions (429 with Retry-After); resuming one is free', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'poker-sessions-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const clock = new FakeClock();
  const app = createPoker({
    basePath: '/poker', dataDir, adapter: new InMemoryAdapter(), webRoot: dataDir, log: () => undefined,
    clientAddress: (req) => String(req.headers['x-test-address'] ?? req.socket.remoteAddress),
  }, { clock, sessionRate: { perMinute: 6, burst: 3 }, sessions: { max: 4 } });
  const server = createAppServer(new Map([['/poker', app]]));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    await app.close(1001);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/poker`;
  const post = (body: unknown, address = '10.0.0.1'): Promise<Response> =>
    fetch(`${base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Test-Address': address }, body: JSON.stringify(body) });

  const made: Array<{ token: string }> = [];
  for (let i = 0; i < 3; i++) {
    const res = await post({ name: `P${i}` });
    assert.equal(res.status, 201);
    made.push((await res.json()) as { token: string });
  }
  const refused = await post({ name: 'P3' });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '10');
  assert.equal(((await refused.json()) as { error: string }).error, 'RATE_LIMITED');
  // Resuming a session does not count.
  assert.equal((await post({ token: made[0]!.token })).status, 200);
  // Another address has its own allowance; ten seconds later this one has one more.
  assert.equal((await post({ name: 'Q' }, '10.0.0.2')).status, 201);
  clock.advance(10_000);
  // The store (max 4) is now full of sessions used within the hour: a new one is refused with 503.
  const full = await post({ name: 'P4' });
  assert.equal(full.status, 503);
  assert.equal(((await full.json()) as { error: string }).error, 'FULL');
  assert.equal((await post({ token: made[1]!.token })).status, 200, 'nobody was signed out');
});
