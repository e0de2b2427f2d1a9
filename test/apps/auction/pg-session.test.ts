/**
 * A node's listening, lock-holding PostgreSQL session against a real database: one of two
 * sessions holds the timer lock; notifications reach both in commit order; when the holder's
 * connection is cut (its backend terminated, as when its process dies), the other takes the lock
 * and the first, reconnected, listens again and reloads without leading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuctionSession } from '../../../src/apps/auction/pg-session.js';
import { needDatabase, until } from './cluster-helpers.js';

const T = { timeout: 30_000 };

/** A session and what it reported. */
function session(t: Parameters<typeof needDatabase>[0], url: string, channel: string, lock: string, name: string) {
  const seen = { payloads: [] as string[], listening: 0, leads: [] as boolean[] };
  const s = new AuctionSession(url, channel, lock, {
    notification: (p) => seen.payloads.push(p),
    listening: () => {
      seen.listening++;
      return Promise.resolve();
    },
    leader: (leading) => seen.leads.push(leading),
    error: () => undefined,
  }, { lockRetryMs: 100, maxReconnectMs: 200, applicationName: name });
  t.after(() => s.stop());
  return { s, seen };
}

void test('one session leads; notifications reach all in order; a cut connection hands the lead over', T, async (t) => {
  const database = await needDatabase(t, false);
  if (database === undefined) return;
  const channel = `parley_auction:${database.schema}`;
  const lock = `parley-auction-timers:${database.schema}`;
  const a = session(t, database.url, channel, lock, `${database.schema}-a`);
  await a.s.start();
  const b = session(t, database.url, channel, lock, `${database.schema}-b`);
  await b.s.start();
  assert.equal(a.s.leader, true, 'the first to ask holds the lock');
  assert.equal(b.s.leader, false);

  for (let i = 1; i <= 5; i++) await database.db.query('SELECT pg_notify($1, $2)', [channel, String(i)]);
  await until(() => a.seen.payloads.length === 5 && b.seen.payloads.length === 5, 5000, 'the notifications');
  assert.deepEqual(a.seen.payloads, ['1', '2', '3', '4', '5']);
  assert.deepEqual(b.seen.payloads, a.seen.payloads);

  // Cut a's connection from the server side, as a dead process's is.
  const { rowCount } = await database.db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`${database.schema}-a`]);
  assert.equal(rowCount, 1);
  await until(() => b.s.leader, 5000, 'b to take the lock');
  assert.deepEqual(b.seen.leads, [true]);
  await until(() => a.seen.listening === 2, 5000, 'a to listen again');
  assert.deepEqual(a.seen.leads, [true, false], 'a gave up the lead with its connection');
  assert.equal(a.s.leader, false, 'and does not take it back while b holds it');
  await database.db.query('SELECT pg_notify($1, $2)', [channel, 'after']);
  await until(() => a.seen.payloads.includes('after') && b.seen.payloads.includes('after'), 5000, 'both to hear again');
});
