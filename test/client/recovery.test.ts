import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageInfo } from '../../src/client/index.js';
import { msg, setup, subok } from './helpers.js';

function collector(): { got: unknown[]; infos: MessageInfo[]; handler: (data: unknown, info: MessageInfo) => void } {
  const got: unknown[] = [];
  const infos: MessageInfo[] = [];
  return { got, infos, handler: (data, info) => { got.push(data); infos.push(info); } };
}

void test('first subscription: sub without since, with presence; messages delivered in order with their info', async () => {
  const { client, latest } = setup();
  const c = collector();
  const sub = client.subscribe('room:1', c.handler, { presence: { name: 'Ann' } });
  assert.equal(latest().sent.length, 0, 'nothing before hello');
  latest().open();
  const sent = subok(latest(), 'room:1', 'E', 4);
  assert.equal(sent.since, undefined);
  assert.deepEqual(sent.presence, { name: 'Ann' });
  await sub.ready();
  latest().deliver(msg('room:1', 'E', 5, 'a')).deliver({ t: 'msg', topic: 'room:1', epoch: 'E', offset: 6, data: 'b', key: 'k' });
  assert.deepEqual(c.got, ['a', 'b']);
  assert.deepEqual(c.infos[1], { topic: 'room:1', epoch: 'E', offset: 6, key: 'k' });
  assert.deepEqual(sub.position, { epoch: 'E', offset: 6 });
  client.close();
});

void test('after a reconnect every topic is resubscribed with since = last message seen; recovered messages follow in order', () => {
  const { client, latest, clock } = setup();
  const a = collector();
  const b = collector();
  client.subscribe('a', a.handler);
  client.subscribe('b', b.handler);
  latest().open();
  subok(latest(), 'a', 'EA', 0);
  subok(latest(), 'b', 'EB', 10);
  latest().deliver(msg('a', 'EA', 1)).deliver(msg('a', 'EA', 2));
  latest().drop();
  clock.advance(250);
  const s2 = latest();
  s2.open();
  const subs = s2.sentOf('sub');
  assert.deepEqual(subs.map((s) => [s.topic, s.since]), [['a', { epoch: 'EA', offset: 2 }], ['b', { epoch: 'EB', offset: 10 }]]);
  subok(s2, 'a', 'EA', 5, { recovered: true });
  s2.deliver(msg('a', 'EA', 3)).deliver(msg('a', 'EA', 4)).deliver(msg('a', 'EA', 5)).deliver(msg('a', 'EA', 6));
  assert.deepEqual(a.got, [1, 2, 3, 4, 5, 6]);
  client.close();
});

void test('a skipped offset triggers a resubscribe with since; replayed messages fill the hole, duplicates dropped', () => {
  const { client, latest } = setup();
  const c = collector();
  client.subscribe('t', c.handler);
  latest().open();
  subok(latest(), 't', 'E', 0);
  latest().deliver(msg('t', 'E', 1)).deliver(msg('t', 'E', 2));
  latest().deliver(msg('t', 'E', 5)); // 3 and 4 are missing
  assert.deepEqual(c.got, [1, 2], 'nothing past the hole is delivered');
  const resub = latest().last('sub');
  assert.deepEqual(resub.since, { epoch: 'E', offset: 2 });
  assert.equal(client.stats.resyncs, 1);
  latest().deliver(msg('t', 'E', 6)); // still live on the old subscription; a second gap does not send again
  assert.equal(latest().sentOf('sub').length, 2);
  subok(latest(), 't', 'E', 6, { recovered: true });
  for (const o of [3, 4, 5, 6, 7]) latest().deliver(msg('t', 'E', o));
  assert.deepEqual(c.got, [1, 2, 3, 4, 5, 6, 7]);
  client.close();
});

void test('duplicates (offset ≤ last in the same epoch) are dropped and counted', () => {
  const { client, latest } = setup();
  const c = collector();
  client.subscribe('t', c.handler);
  latest().open();
  subok(latest(), 't', 'E', 10);
  for (const o of [10, 11, 11, 9, 12, 12, 11, 13]) latest().deliver(msg('t', 'E', o));
  assert.deepEqual(c.got, [11, 12, 13]);
  assert.equal(client.stats.duplicates, 5);
  assert.equal(latest().sentOf('sub').length, 1, 'duplicates are not gaps');
  client.close();
});

void test('recovered: false → reset with the snapshot, then messages after the new position', () => {
  const { client, latest, clock } = setup();
  const c = collector();
  const sub = client.subscribe('auction', c.handler);
  const resets: unknown[] = [];
  const subscribed: unknown[] = [];
  sub.on('reset', (snapshot, position) => resets.push({ snapshot, position }));
  sub.on('subscribed', (info) => subscribed.push(info));
  latest().open();
  subok(latest(), 'auction', 'E1', 0, { snapshot: { price: 10 } });
  assert.deepEqual(subscribed, [{ kind: 'fresh', position: { epoch: 'E1', offset: 0 }, snapshot: { price: 10 } }]);
  latest().deliver(msg('auction', 'E1', 1));
  latest().drop();
  clock.advance(250);
  latest().open();
  assert.deepEqual(latest().last('sub').since, { epoch: 'E1', offset: 1 });
  subok(latest(), 'auction', 'E2', 40, { recovered: false, snapshot: { price: 99 } });
  assert.deepEqual(resets, [{ snapshot: { price: 99 }, position: { epoch: 'E2', offset: 40 } }]);
  assert.deepEqual(subscribed[1], { kind: 'reset', position: { epoch: 'E2', offset: 40 }, snapshot: { price: 99 } });
  latest().deliver(msg('auction', 'E2', 40)).deliver(msg('auction', 'E2', 41));
  assert.deepEqual(c.got, [1, 41]);
  assert.equal(client.stats.resets, 1);
  client.close();
});

void test('a new epoch mid-stream is a gap: resubscribe with since, the server answers reset', () => {
  const { client, latest } = setup();
  const c = collector();
  const sub = client.subscribe('t', c.handler);
  let reset = 0;
  sub.on('reset', () => reset++);
  latest().open();
  subok(latest(), 't', 'E1', 3);
  latest().deliver(msg('t', 'E2', 1));
  assert.deepEqual(latest().last('sub').since, { epoch: 'E1', offset: 3 });
  subok(latest(), 't', 'E2', 1, { recovered: false, snapshot: null });
  latest().deliver(msg('t', 'E2', 1)).deliver(msg('t', 'E2', 2));
  assert.deepEqual(c.got, [2]);
  assert.equal(reset, 1);
  client.close();
});

void test('a gap envelope from the server makes the client resubscribe with since', () => {
  const { client, latest } = setup();
  client.subscribe('t', () => undefined);
  latest().open();
  subok(latest(), 't', 'E', 7);
  latest().deliver({ t: 'gap', topic: 't' });
  assert.deepEqual(latest().last('sub').since, { epoch: 'E', offset: 7 });
  client.close();
});

void test('several handles share one server subscription; unsubscribe of the last sends unsub and it is not renewed', () => {
  const { client, latest, clock } = setup();
  const a = collector();
  const b = collector();
  latest().open();
  const s1 = client.subscribe('t', a.handler);
  const s2 = client.subscribe('t', b.handler);
  assert.equal(latest().sentOf('sub').length, 1);
  subok(latest(), 't', 'E', 0);
  assert.equal(s2.live, true);
  latest().deliver(msg('t', 'E', 1));
  s1.unsubscribe();
  latest().deliver(msg('t', 'E', 2));
  assert.equal(latest().sentOf('unsub').length, 0);
  s2.unsubscribe();
  assert.equal(latest().last('unsub').topic, 't');
  latest().deliver(msg('t', 'E', 3));
  assert.deepEqual(a.got, [1]);
  assert.deepEqual(b.got, [1, 2]);
  latest().drop();
  clock.advance(250);
  latest().open();
  assert.equal(latest().sentOf('sub').length, 0);
  client.close();
});

void test('presence: join/leave events on the subscription and presence() query', async () => {
  const { client, latest } = setup();
  latest().open();
  const sub = client.subscribe('table', () => undefined, { presence: { seat: 3 } });
  const events: string[] = [];
  sub.on('presence', (event, member) => events.push(`${event} ${member.user}`));
  subok(latest(), 'table', 'E', 0);
  latest().deliver({ t: 'pres', topic: 'table', event: 'join', member: { user: 'bob', conn: 'c2', info: { seat: 1 } } });
  latest().deliver({ t: 'pres', topic: 'table', event: 'leave', member: { user: 'bob', conn: 'c2' } });
  assert.deepEqual(events, ['join bob', 'leave bob']);
  const members = client.presence('table');
  const q = latest().last('presence');
  assert.equal(q.topic, 'table');
  latest().deliver({ t: 'ok', id: q.id as string, members: [{ user: 'me', conn: 'c1', info: { seat: 3 } }] });
  assert.deepEqual(await members, [{ user: 'me', conn: 'c1', info: { seat: 3 } }]);
  client.close();
});

void test('a refused subscription ends with the server error', async () => {
  const { client, latest } = setup();
  latest().open();
  const sub = client.subscribe('secret', () => undefined);
  const ready = sub.ready();
  const sent = latest().last('sub');
  latest().deliver({ t: 'err', id: sent.id as string, code: 'FORBIDDEN', message: 'no' });
  await assert.rejects(ready, { code: 'FORBIDDEN' });
  assert.equal(sub.active, false);
  client.close();
});

void test('a conflated message may skip offsets (superseded, not lost): delivered without a resync', () => {
  const { client, latest } = setup();
  const c = collector();
  client.subscribe('prices', c.handler);
  latest().open();
  subok(latest(), 'prices', 'E', 0);
  latest().deliver(msg('prices', 'E', 1));
  latest().deliver({ t: 'msg', topic: 'prices', epoch: 'E', offset: 4, data: 4, key: 'AAPL', conflated: true });
  latest().deliver(msg('prices', 'E', 5));
  assert.deepEqual(c.got, [1, 4, 5]);
  assert.equal(c.infos[1]?.conflated, true);
  assert.equal(latest().sentOf('sub').length, 1);
  latest().deliver(msg('prices', 'E', 9)); // not conflated: a real gap
  assert.equal(latest().sentOf('sub').length, 2);
  client.close();
});

void test('a refused resync ends the subscription and drops the server subscription left standing', () => {
  const { client, latest } = setup();
  const c = collector();
  const sub = client.subscribe('t', c.handler);
  const errors: string[] = [];
  sub.on('error', (e) => errors.push(e.code));
  latest().open();
  subok(latest(), 't', 'E', 0);
  latest().deliver({ t: 'gap', topic: 't' });
  const resync = latest().last('sub');
  latest().deliver({ t: 'err', id: resync.id as string, code: 'FORBIDDEN', message: 'revoked' });
  assert.deepEqual(errors, ['FORBIDDEN']);
  assert.equal(sub.active, false);
  assert.equal(latest().last('unsub').topic, 't');
  latest().deliver(msg('t', 'E', 1));
  assert.deepEqual(c.got, []);
  client.close();
});
