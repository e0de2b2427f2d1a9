import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, encodeEnvelope } from '../../src/wire/envelope.js';
import { flush } from './fakes.js';
import { setup, subok } from './helpers.js';

void test('publishes and requests made offline wait in call order and go out after hello', async () => {
  const { client, latest } = setup();
  const p1 = client.publish('t', 1);
  const p2 = client.publish('t', 2, { ack: true });
  const r = client.request('echo', 'x');
  assert.equal(client.queued, 3);
  latest().open();
  assert.deepEqual(latest().envelopes().map((e) => e.t), ['pub', 'pub', 'req']);
  assert.equal(await p1, undefined);
  const [, pub2, req] = latest().envelopes();
  latest().deliver({ t: 'ok', id: pub2!.id as string, offset: 17 });
  latest().deliver({ t: 'res', id: req!.id as string, data: { echoed: 'x' } });
  assert.equal(await p2, 17);
  assert.deepEqual(await r, { echoed: 'x' });
  client.close();
});

void test('queue bound: past maxQueue the oldest is refused with QUEUE_FULL, the rest are sent', async () => {
  const { client, latest } = setup({ maxQueue: 3 });
  const results = [1, 2, 3, 4, 5].map((n) => client.publish('t', n, { ack: true }).then(() => 'sent', (e: { code: string }) => e.code));
  await flush();
  assert.equal(client.queued, 3);
  latest().open();
  assert.deepEqual(latest().sentOf('pub').map((e) => e.data), [3, 4, 5]);
  for (const e of latest().sentOf('pub')) latest().deliver({ t: 'ok', id: e.id as string, offset: 1 });
  assert.deepEqual(await Promise.all(results), ['QUEUE_FULL', 'QUEUE_FULL', 'sent', 'sent', 'sent']);
  client.close();
});

void test('a publish without ack whose promise is ignored never becomes an unhandled rejection', async () => {
  const { client } = setup({ maxQueue: 0 });
  void client.publish('t', 1); // refused at once (queue of 0) and nobody listens
  client.close();
  await flush();
});

void test('request timeout rejects with code TIMEOUT (queued or in flight); a late reply is ignored', async () => {
  const { client, latest, clock } = setup({ requestTimeout: 1000 });
  const queued = client.request('m', 1);
  clock.advance(1000);
  await assert.rejects(queued, { code: 'TIMEOUT' });
  assert.equal(client.queued, 0);
  latest().open();
  assert.equal(latest().sentOf('req').length, 0, 'a timed-out request is not sent');
  const inflight = client.request('m', 2, { timeout: 50 });
  const id = latest().last('req').id as string;
  clock.advance(50);
  await assert.rejects(inflight, (e: { code: string; name: string }) => e.code === 'TIMEOUT' && e.name === 'ParleyError');
  latest().deliver({ t: 'res', id, data: 'late' });
  client.close();
});

void test('a server err rejects the request with its code and message', async () => {
  const { client, latest } = setup();
  latest().open();
  const r = client.request('nope', null);
  latest().deliver({ t: 'err', id: latest().last('req').id as string, code: 'UNKNOWN_METHOD', message: 'no method "nope"' });
  await assert.rejects(r, { code: 'UNKNOWN_METHOD', message: 'no method "nope"' });
  client.close();
});

void test('an acked publish is re-sent with the same id after a reconnect (after the resubscriptions) until ok', async () => {
  const { client, latest, clock } = setup();
  latest().open();
  client.subscribe('t', () => undefined);
  subok(latest(), 't', 'E', 0);
  const p = client.publish('t', { bid: 5 }, { ack: true });
  const first = latest().last('pub');
  latest().drop();
  clock.advance(250);
  latest().open();
  assert.deepEqual(latest().envelopes().map((e) => e.t), ['sub', 'pub']);
  const again = latest().last('pub');
  assert.equal(again.id, first.id);
  assert.deepEqual(again.data, { bid: 5 });
  latest().drop(); // lost again before the ok
  clock.advance(250);
  latest().open();
  assert.equal(latest().last('pub').id, first.id);
  latest().deliver({ t: 'ok', id: first.id as string, offset: 1 });
  assert.equal(await p, 1);
  latest().drop();
  clock.advance(250);
  latest().open();
  assert.equal(latest().sentOf('pub').length, 0, 'not re-sent once acknowledged');
  client.close();
});

void test('a request in flight when the connection drops is re-sent with the same id', async () => {
  const { client, latest, clock } = setup();
  latest().open();
  const r = client.request('charge', { amount: 10 });
  const id = latest().last('req').id;
  latest().drop();
  clock.advance(250);
  latest().open();
  assert.equal(latest().last('req').id, id);
  latest().deliver({ t: 'res', id: id as string, data: 'done' });
  assert.equal(await r, 'done');
  client.close();
});

void test('ids are unique across clients (random prefix) and valid protocol ids', async () => {
  const a = setup();
  const b = setup();
  a.latest().open();
  b.latest().open();
  const settled = [a.client.request('m'), b.client.request('m')].map((r) => r.catch(() => undefined));
  const ida = a.latest().last('req').id as string;
  const idb = b.latest().last('req').id as string;
  assert.notEqual(ida, idb);
  assert.ok(ida.length <= 64);
  a.client.close();
  b.client.close();
  await Promise.all(settled);
});

void test('binary: a binary msg frame is decoded and delivered as a Uint8Array; a Uint8Array publish goes as a binary frame', async () => {
  const { client, latest } = setup();
  latest().open();
  const got: unknown[] = [];
  client.subscribe('bin', (data) => got.push(data));
  subok(latest(), 'bin', 'E', 0);
  const payload = new Uint8Array([0, 1, 2, 250, 255]);
  const frame = encodeEnvelope({ t: 'msg', topic: 'bin', epoch: 'E', offset: 1, data: payload });
  assert.ok(frame instanceof Uint8Array);
  latest().deliver(frame);
  assert.equal(got.length, 1);
  assert.ok(got[0] instanceof Uint8Array);
  assert.deepEqual([...got[0]], [0, 1, 2, 250, 255]);
  latest().deliver(msg2());
  assert.equal(got[1], 'text');
  const p = client.publish('bin', new Uint8Array([9, 8, 7]));
  const sent = latest().sent.at(-1);
  assert.ok(sent instanceof Uint8Array, 'sent as a binary frame');
  const decoded = decodeFrame(sent);
  assert.equal(decoded.t, 'pub');
  assert.equal(decoded.bin, true);
  assert.deepEqual([...(decoded.data as Uint8Array)], [9, 8, 7]);
  await p;
  client.close();
});

function msg2(): string {
  return JSON.stringify({ t: 'msg', topic: 'bin', epoch: 'E', offset: 2, data: 'text' });
}

void test('publish to an invalid topic rejects with BAD_TOPIC', async () => {
  const { client } = setup();
  await assert.rejects(client.publish('', 1), { code: 'BAD_TOPIC' });
  await assert.rejects(client.presence('a b'), { code: 'BAD_TOPIC' });
  client.close();
});
