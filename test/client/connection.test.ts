import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyClient, type OpenInfo } from '../../src/client/index.js';
import { fakeWebSocket, flush, FakeClock } from './fakes.js';
import { setup } from './helpers.js';

void test('opens with subprotocol parley.v1 and binaryType arraybuffer; no token, no query parameter', () => {
  const { client, latest } = setup();
  assert.equal(latest().url, 'ws://example.test/rt');
  assert.equal(latest().protocols, 'parley.v1');
  assert.equal(latest().binaryType, 'arraybuffer');
  assert.equal(client.state, 'connecting');
  client.close();
});

void test('the token goes in the `token` query parameter, encoded, next to existing parameters', () => {
  const fake = fakeWebSocket();
  const client = new ParleyClient('wss://example.test/rt?room=7', { WebSocket: fake.WebSocket, token: 'a b&c=d/é', clock: new FakeClock() });
  const url = new URL(fake.latest().url);
  assert.equal(url.searchParams.get('token'), 'a b&c=d/é');
  assert.equal(url.searchParams.get('room'), '7');
  client.close();
});

void test('a token function (sync or async) is called before every connection', async () => {
  const fake = fakeWebSocket();
  const clock = new FakeClock();
  let n = 0;
  const client = new ParleyClient('http://example.test/rt', {
    WebSocket: fake.WebSocket,
    clock,
    random: () => 0,
    token: () => Promise.resolve(`t${++n}`),
  });
  assert.equal(fake.sockets.length, 0, 'waits for the token');
  await flush();
  assert.equal(fake.sockets.length, 1);
  assert.equal(fake.sockets[0]!.url, 'ws://example.test/rt?token=t1', 'http: becomes ws:');
  fake.sockets[0]!.fail();
  clock.advance(250);
  await flush();
  assert.equal(new URL(fake.sockets[1]!.url).searchParams.get('token'), 't2');
  client.close();
});

void test('a token function that throws is an error event and a retry, not a crash', async () => {
  const fake = fakeWebSocket();
  const clock = new FakeClock();
  let calls = 0;
  const client = new ParleyClient('ws://example.test/rt', {
    WebSocket: fake.WebSocket,
    clock,
    random: () => 0,
    token: () => {
      if (++calls === 1) throw new Error('auth service down');
      return Promise.resolve('ok');
    },
  });
  const errors: string[] = [];
  client.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
  // The first call happened in the constructor, before the listener: the retry is what we see.
  assert.deepEqual(clock.pending(), [250]);
  clock.advance(250);
  await flush();
  assert.equal(fake.sockets.length, 1);
  assert.deepEqual(errors, []);
  client.close();
});

void test('open after hello: info, serverTimeOffset and serverNow from hello.time', () => {
  const { client, latest, clock } = setup();
  clock.time = 1_000_000;
  const opens: OpenInfo[] = [];
  client.on('open', (info) => opens.push(info));
  latest().accept();
  assert.equal(client.state, 'connecting', 'not open before hello');
  latest().hello(1_003_500, 'conn-1', 'alice');
  assert.deepEqual(opens, [{ conn: 'conn-1', user: 'alice', reconnected: false }]);
  assert.equal(client.state, 'open');
  assert.equal(client.serverTimeOffset, 3500);
  clock.time += 100;
  assert.equal(client.serverNow(), 1_003_600);
  assert.equal(client.connectionId, 'conn-1');
  assert.equal(client.user, 'alice');
  client.close();
});

void test('a server that does not select parley.v1 is reported and the socket closed', () => {
  const { client, latest } = setup();
  const errors: string[] = [];
  client.on('error', (e) => errors.push(e.code));
  latest().accept('');
  assert.deepEqual(errors, ['CONNECTION']);
  assert.equal(latest().closedWith?.code, 1000);
  assert.equal(client.state, 'reconnecting');
  client.close();
});

void test('close(): final close event, no reconnect, pending work rejected with CLOSED, later calls refused', async () => {
  const { client, latest, clock } = setup();
  latest().open();
  const sub = client.subscribe('room', () => undefined);
  const ready = sub.ready();
  const req = client.request('m', 1);
  const closes: unknown[] = [];
  client.on('close', (info) => closes.push(info));
  client.close(4000, 'bye');
  assert.deepEqual(latest().closedWith, { code: 4000, reason: 'bye' });
  assert.deepEqual(closes, [{ code: 4000, reason: 'bye', willReconnect: false }]);
  await assert.rejects(req, { code: 'CLOSED' });
  await assert.rejects(ready, { code: 'CLOSED' });
  await assert.rejects(client.publish('room', 1, { ack: true }), { code: 'CLOSED' });
  assert.throws(() => client.subscribe('room', () => undefined), { code: 'CLOSED' });
  assert.equal(sub.active, false);
  assert.equal(client.state, 'closed');
  assert.deepEqual(clock.pending(), []);
  client.close(); // idempotent
});

void test('close() while waiting to reconnect cancels the timer and still ends with a close event', async () => {
  const { client, latest, clock } = setup();
  latest().fail();
  assert.deepEqual(clock.pending(), [250]);
  const closes: unknown[] = [];
  client.on('close', (info) => closes.push(info));
  client.close();
  await flush();
  assert.deepEqual(clock.pending(), []);
  assert.deepEqual(closes, [{ code: 1000, reason: '', willReconnect: false }]);
});

void test('a lost connection emits close(willReconnect) then reconnecting; reopening says reconnected', () => {
  const { client, latest, clock, sockets } = setup();
  const log: string[] = [];
  client.on('open', (i) => log.push(`open ${String(i.reconnected)}`));
  client.on('close', (i) => log.push(`close ${i.code} ${String(i.willReconnect)}`));
  client.on('reconnecting', (a, d) => log.push(`reconnecting ${a} ${d}`));
  latest().open();
  latest().drop();
  clock.advance(250);
  sockets[1]!.open();
  assert.deepEqual(log, ['open false', 'close 1006 true', 'reconnecting 1 250', 'open true']);
  client.close();
});

void test('constructor checks: bad URL, no WebSocket class, bad topic', () => {
  const fake = fakeWebSocket();
  assert.throws(() => new ParleyClient('not a url', { WebSocket: fake.WebSocket }), TypeError);
  if (!('WebSocket' in globalThis)) assert.throws(() => new ParleyClient('ws://x/'), /no WebSocket class/);
  const client = new ParleyClient('ws://x/', { WebSocket: fake.WebSocket, clock: new FakeClock() });
  assert.throws(() => client.subscribe('bad topic!', () => undefined), { code: 'BAD_TOPIC' });
  client.close();
});

void test('malformed or unreadable envelopes are error events, not crashes', () => {
  const { client, latest } = setup();
  const errors: string[] = [];
  client.on('error', (e) => errors.push(e.code));
  latest().open();
  latest().deliver('not json');
  latest().deliver('{"t":"msg","topic":5}');
  latest().deliver('{"t":"future-thing"}');
  latest().deliver({ t: 'err', code: 'RATE_LIMITED', message: 'slow down' });
  assert.deepEqual(errors, ['BAD_ENVELOPE', 'BAD_ENVELOPE', 'RATE_LIMITED']);
  client.close();
});
