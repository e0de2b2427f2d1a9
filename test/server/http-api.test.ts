/**
 * The HTTP API over real HTTP, with real WebSocket clients on the other side: publishing to a
 * topic and to a user, presence, history, disconnecting a user; API-key and HMAC authentication
 * (a replayed or stale signed request is refused); bad bodies get stable error codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { InMemoryAdapter, WebSocket, type ClusterAdapter, type HistoryLimits, type TopicMessage } from '../../src/index.js';
import { HmacVerifier, signRequest } from '../../src/server/hmac.js';
import { defer, metric, post, request, secretKeys, serve, v1, waitFor, type HttpResult } from './helpers.js';

const KEY = 'test-api-key-0123456789';
const SECRET = 'test-hmac-secret-0123456789';

/** A plain WebSocket client collecting text messages. */
async function plain(t: Parameters<typeof serve>[0], url: string): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(url);
  defer(t, () => ws.terminate());
  const got: string[] = [];
  ws.on('message', (data: Buffer) => got.push(data.toString('utf8')));
  await waitFor(ws, 'open');
  return { ws, got };
}

function signed(port: number, method: string, path: string, body: string, options: { secret?: string; timestamp?: number; signature?: string } = {}): Promise<HttpResult> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = options.signature ?? signRequest(options.secret ?? SECRET, timestamp, method, path, body);
  return request(port, method, path, { headers: { 'Content-Type': 'application/json', 'X-Parley-Timestamp': String(timestamp), 'X-Parley-Signature': signature }, body });
}

void test('without an API key or HMAC secret the API is off (404 api_disabled)', async (t) => {
  const s = await serve(t);
  const r = await post(s.port, '/api/topics/news/publish', { data: 1 }, KEY);
  assert.equal(r.status, 404);
  assert.equal((r.json as { error: string }).error, 'api_disabled');
});

void test('API key: a wrong or missing key is 401; the right one publishes to a topic', async (t) => {
  const s = await serve(t, { api: { keys: [KEY] } });
  assert.equal((await post(s.port, '/api/topics/news/publish', { data: 1 }, 'wrong-key-0123456789')).status, 401);
  const missing = await request(s.port, 'POST', '/api/topics/news/publish', { headers: { 'Content-Type': 'application/json' }, body: '{"data":1}' });
  assert.equal(missing.status, 401);
  assert.equal(missing.headers['www-authenticate'], 'Bearer');

  const sub = await plain(t, s.wsUrl);
  s.handle.wss.clients.forEach((ws) => ws.subscribe('news'));
  const r = await post(s.port, '/api/topics/news/publish', { data: { headline: 'hello' } }, KEY);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { topic: 'news', status: 'ok', offset: 1, delivered: 1 });
  while (sub.got.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(sub.got, ['{"headline":"hello"}']);
});

/** An adapter that answers publish asynchronously (as Redis does), and can be made to refuse it. */
function asyncAdapter(): { adapter: ClusterAdapter; inner: InMemoryAdapter; fail: { now: boolean } } {
  const inner = new InMemoryAdapter();
  const fail = { now: false };
  const adapter = new Proxy(inner, {
    get(target, property) {
      if (property === 'publish') {
        return (message: TopicMessage, limits: HistoryLimits) => (fail.now ? Promise.reject(new Error('connection lost')) : Promise.resolve(target.publish(message, limits)));
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as ClusterAdapter;
  return { adapter, inner, fail };
}

void test('with an asynchronous adapter the answer waits for the real offset, and a refused publish is a 503', async (t) => {
  const { adapter, inner, fail } = asyncAdapter();
  t.after(() => inner.close());
  const s = await serve(t, { api: { keys: [KEY] } }, { adapter });
  const first = await post(s.port, '/api/topics/news/publish', { data: 1 }, KEY);
  assert.deepEqual(first.json, { topic: 'news', status: 'ok', offset: 1, delivered: 0 });
  const field = (r: HttpResult, name: string): unknown => (r.json as Record<string, unknown>)[name];
  assert.equal(field(await post(s.port, '/api/users/ann/publish', { data: 2 }, KEY), 'offset'), 1);
  assert.equal(field(await post(s.port, '/api/topics/news/publish', { data: 3 }, KEY), 'offset'), 2);
  fail.now = true;
  const refused = await post(s.port, '/api/topics/news/publish', { data: 4 }, KEY);
  assert.equal(refused.status, 503);
  assert.equal(field(refused, 'error'), 'adapter_unavailable');
  assert.equal(refused.headers['retry-after'], '5');
  fail.now = false;
  assert.equal(field(await post(s.port, '/api/topics/news/publish', { data: 5 }, KEY), 'offset'), 3, 'the refused message took no offset');
});

void test('publish to a user reaches every connection of that user and no one else', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth, api: { keys: [KEY] } });
  const ann = await keys.sign({ sub: 'ann' });
  const ben = await keys.sign({ sub: 'ben' });
  const tab1 = await v1(t, `${s.wsUrl}?token=${ann}`);
  const tab2 = await v1(t, `${s.wsUrl}?token=${ann}`);
  const other = await v1(t, `${s.wsUrl}?token=${ben}`);
  const r = await post(s.port, '/api/users/ann/publish', { data: { notice: 'paid' } }, KEY);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { user: 'ann', topic: 'user:ann', status: 'ok', offset: 1, delivered: 2 });
  for (const tab of [tab1, tab2]) {
    const msg = await tab.nextOf('msg');
    assert.equal(msg.topic, 'user:ann');
    assert.deepEqual(msg.data, { notice: 'paid' });
  }
  other.send({ t: 'presence', id: 9, topic: 'user:ben' }); // any round trip: nothing for ann arrived before it
  const next = await other.next();
  assert.notEqual(next.t, 'msg');
  assert.equal(metric(await s.handle.metrics.render(), 'parley_api_publishes_total{target="user"}'), 1);
});

void test('presence and history of a topic', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth, api: { keys: [KEY] }, history: { maxCount: 3 } });
  // Presence info is given by clients that may publish on the topic (docs/operations.md).
  const token = await keys.sign({ sub: 'gus', topics: { subscribe: ['room:*'], publish: ['room:*'] } });
  const c = await v1(t, `${s.wsUrl}?token=${token}`);
  c.send({ t: 'sub', id: 1, topic: 'room:1', presence: { name: 'Gus' } });
  await c.nextOf('subok');
  const presence = await request(s.port, 'GET', '/api/topics/room:1/presence', { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(presence.status, 200);
  const members = (presence.json as { members: Array<{ user: string; info: unknown }> }).members;
  assert.deepEqual(members.map((m) => [m.user, m.info]), [['gus', { name: 'Gus' }]]);

  for (let i = 1; i <= 5; i++) assert.equal((await post(s.port, '/api/topics/room:1/publish', { data: i }, KEY)).status, 200);
  const all = await request(s.port, 'GET', '/api/topics/room:1/history', { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(all.status, 200);
  const h = all.json as { offset: number; complete: boolean; messages: Array<{ offset: number; data: unknown }> };
  // Only 3 are kept: the API says the history is incomplete and returns what is there.
  assert.equal(h.offset, 5);
  assert.equal(h.complete, false);
  assert.deepEqual(h.messages.map((m) => [m.offset, m.data]), [[3, 3], [4, 4], [5, 5]]);
  const recent = await request(s.port, 'GET', '/api/topics/room:1/history?limit=2', { headers: { Authorization: `Bearer ${KEY}` } });
  assert.deepEqual((recent.json as typeof h).messages.map((m) => m.offset), [4, 5]);
  assert.equal((recent.json as typeof h).complete, true);
  const since = await request(s.port, 'GET', '/api/topics/room:1/history?since=4', { headers: { Authorization: `Bearer ${KEY}` } });
  assert.deepEqual((since.json as typeof h).messages.map((m) => m.offset), [5]);
});

void test('disconnect a user closes all of their connections with the code given', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth, api: { keys: [KEY] } });
  const c = await v1(t, `${s.wsUrl}?token=${await keys.sign({ sub: 'hal' })}`);
  const r = await post(s.port, '/api/users/hal/disconnect', { code: 4001, reason: 'banned' }, KEY);
  assert.deepEqual(r.json, { user: 'hal', disconnected: 1 });
  const [code, reason] = await c.closed;
  assert.equal(code, 4001);
  assert.equal(String(reason), 'banned');
  assert.equal((await post(s.port, '/api/users/hal/disconnect', { code: 1006 }, KEY)).status, 400);
});

void test('HMAC: a signed request is accepted once; its replay, a stale one and a bad signature are refused', async (t) => {
  const s = await serve(t, { api: { hmacSecrets: [SECRET] } });
  const path = '/api/topics/orders/publish';
  const body = '{"data":{"id":7}}';
  const timestamp = Math.floor(Date.now() / 1000);
  const first = await signed(s.port, 'POST', path, body, { timestamp });
  assert.equal(first.status, 200);
  assert.equal((first.json as { offset: number }).offset, 1);

  const replay = await signed(s.port, 'POST', path, body, { timestamp });
  assert.equal(replay.status, 401);
  assert.equal((replay.json as { error: string }).error, 'replayed');

  const stale = await signed(s.port, 'POST', path, body, { timestamp: timestamp - 3600 });
  assert.equal((stale.json as { error: string }).error, 'stale_timestamp');

  const wrong = await signed(s.port, 'POST', path, body, { secret: 'not-the-secret-0123456789' });
  assert.equal((wrong.json as { error: string }).error, 'bad_signature');

  // The signature covers the body: the same headers with another body fail.
  const ts2 = timestamp + 1;
  const sig = signRequest(SECRET, ts2, 'POST', path, body);
  const tampered = await signed(s.port, 'POST', path, '{"data":{"id":8}}', { timestamp: ts2, signature: sig });
  assert.equal((tampered.json as { error: string }).error, 'bad_signature');
  // The same request signed at another second is a new request.
  assert.equal((await signed(s.port, 'POST', path, body, { timestamp: ts2 })).status, 200);
});

void test('bad bodies: not JSON, not an object, no data, wrong type, too large, bad topic, wrong method, unknown route', async (t) => {
  const s = await serve(t, { api: { keys: [KEY], maxBodyBytes: 1024 } });
  const auth = { Authorization: `Bearer ${KEY}` };
  const call = (method: string, path: string, body: string | undefined, type = 'application/json'): Promise<HttpResult> =>
    request(s.port, method, path, { headers: { ...auth, 'Content-Type': type }, body });
  const expect = async (r: Promise<HttpResult>, status: number, error: string): Promise<void> => {
    const got = await r;
    assert.equal(got.status, status, got.text);
    assert.equal((got.json as { error: string }).error, error);
  };
  await expect(call('POST', '/api/topics/a/publish', '{"data":'), 400, 'bad_json');
  await expect(call('POST', '/api/topics/a/publish', '[1,2]'), 400, 'bad_body');
  await expect(call('POST', '/api/topics/a/publish', '{"payload":1}'), 400, 'bad_body');
  await expect(call('POST', '/api/topics/a/publish', '{"data":1,"key":5}'), 400, 'bad_body');
  await expect(call('POST', '/api/topics/a/publish', 'data=1', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
  await expect(call('POST', '/api/topics/a/publish', JSON.stringify({ data: 'x'.repeat(2000) })), 413, 'too_large');
  await expect(call('POST', `/api/topics/${encodeURIComponent('bad topic!')}/publish`, '{"data":1}'), 400, 'bad_topic');
  await expect(call('POST', '/api/topics/%E0%A4%A/publish', '{"data":1}'), 400, 'bad_topic');
  await expect(call('GET', '/api/topics/a/publish', undefined), 405, 'method_not_allowed');
  await expect(call('POST', '/api/nothing', '{}'), 404, 'not_found');
  await expect(call('POST', `/api/users/${'u'.repeat(129)}/publish`, '{"data":1}'), 400, 'bad_user');
  // A chunked body (no Content-Length) is cut off as soon as it passes the limit.
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/api/topics/a/publish', headers: { ...auth, 'Content-Type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('{"data":"');
    for (let i = 0; i < 4; i++) req.write('y'.repeat(512));
    req.end('"}');
  });
  assert.equal(chunked, 413);
  // Still serving after all of that.
  assert.equal((await call('POST', '/api/topics/a/publish', '{"data":1}')).status, 200);
});

void test('HmacVerifier forgets signatures once they are past the window', () => {
  let now = 1_000_000_000_000;
  const v = new HmacVerifier([SECRET], 60, { now: () => now });
  const ts = Math.floor(now / 1000);
  const sig = signRequest(SECRET, ts, 'POST', '/x', '{}');
  const body = Buffer.from('{}');
  assert.equal(v.verify(String(ts), sig, 'POST', '/x', body), undefined);
  assert.equal(v.verify(String(ts), sig, 'POST', '/x', body), 'replayed');
  now += 10 * 60_000;
  // Past the window the timestamp itself is stale, so forgetting the signature opens nothing.
  assert.equal(v.verify(String(ts), sig, 'POST', '/x', body), 'stale_timestamp');
  assert.equal(v.verify('12ab', sig, 'POST', '/x', body), 'bad_timestamp');
  assert.equal(v.verify(undefined, sig, 'POST', '/x', body), 'missing_signature');
});

void test('disconnect reaches the user on every server of the cluster (the control topic)', async (t) => {
  const keys = secretKeys();
  const adapter = new InMemoryAdapter();
  t.after(() => adapter.close());
  const a = await serve(t, { auth: keys.auth, api: { keys: [KEY] } }, { adapter });
  const b = await serve(t, { auth: keys.auth }, { adapter });
  const token = await keys.sign({ sub: 'ida', topics: { subscribe: ['*'], publish: ['*'] } });
  const onB = await v1(t, `${b.wsUrl}?token=${token}`);
  const bystander = await v1(t, `${b.wsUrl}?token=${await keys.sign({ sub: 'jon' })}`);
  // Clients may not listen to or speak on the servers' own topics, whatever their token says.
  onB.send({ t: 'sub', id: 1, topic: 'parley:control' });
  assert.equal((await onB.nextOf('err')).code, 'FORBIDDEN');
  onB.send({ t: 'pub', id: 2, topic: 'parley:control', data: { op: 'disconnect', user: 'jon', code: 1000, reason: '', from: 'x' } });
  assert.equal((await onB.nextOf('err')).code, 'FORBIDDEN');

  const r = await post(a.port, '/api/users/ida/disconnect', { code: 4002, reason: 'account closed' }, KEY);
  assert.deepEqual(r.json, { user: 'ida', disconnected: 0 }); // none on A itself
  const [code, reason] = await onB.closed;
  assert.equal(code, 4002);
  assert.equal(String(reason), 'account closed');
  assert.equal(bystander.ws.readyState, WebSocket.OPEN);
});

void test('reserved parley: topics: the API can neither publish a forged control command nor read them', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth, api: { keys: [KEY] } });
  const alice = await v1(t, `${s.wsUrl}?token=${await keys.sign({ sub: 'alice' }, { expiresIn: '5m' })}`);
  const forged = { op: 'disconnect', user: 'alice', code: 1011, reason: 'forged', from: 'elsewhere' };
  for (const topic of ['parley:control', 'parley:anything']) {
    const r = await post(s.port, `/api/topics/${topic}/publish`, { data: forged }, KEY);
    assert.equal(r.status, 403, r.text);
    assert.equal((r.json as { error: string }).error, 'reserved_topic');
    for (const route of ['history', 'presence']) {
      const g = await request(s.port, 'GET', `/api/topics/${topic}/${route}`, { headers: { Authorization: `Bearer ${KEY}` } });
      assert.equal(g.status, 403);
    }
  }
  // Nothing reached the control channel: alice is still connected.
  alice.send({ t: 'presence', id: 'p', topic: 'news' });
  assert.equal((await alice.nextOf('err')).code, 'NOT_SUBSCRIBED');
  assert.equal(alice.ws.readyState, WebSocket.OPEN);
});

void test('API keys are compared exactly, and a caller without credentials is refused before its body is read', async (t) => {
  const s = await serve(t, { api: { keys: [KEY] } });
  // Trailing white space is not part of a header value (RFC 9110 §5.5: HTTP parsing drops it);
  // within the value, the key is compared byte for byte.
  assert.equal((await post(s.port, '/api/topics/a/publish', { data: 1 }, ` ${KEY}`)).status, 401);
  assert.equal((await post(s.port, '/api/topics/a/publish', { data: 1 }, `${KEY} x`)).status, 401);
  assert.equal((await post(s.port, '/api/topics/a/publish', { data: 1 }, KEY)).status, 200);
  // Headers announcing 512 KiB, and no body at all: the 401 comes without waiting for it.
  for (const headers of [{}, { Authorization: 'Bearer wrong-key-0123456789' }, { 'X-Parley-Timestamp': '1', 'X-Parley-Signature': 'v1=00' }]) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/api/topics/a/publish', headers: { 'Content-Type': 'application/json', 'Content-Length': String(512 * 1024), ...headers }, agent: false, signal: AbortSignal.timeout(3000) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.ok(status === 401 || status === 404, `status ${status}`);
  }
});

void test('HMAC: a full replay cache answers 503 replay_cache_full (never "replayed" for a new request); signatures are kept until their timestamp is stale', async (t) => {
  const s = await serve(t, { api: { hmacSecrets: [SECRET], maxSignedRequests: 3 } });
  const path = '/api/topics/orders/publish';
  for (let i = 0; i < 3; i++) assert.equal((await signed(s.port, 'POST', path, `{"data":${i}}`)).status, 200);
  const full = await signed(s.port, 'POST', path, '{"data":99}');
  assert.equal(full.status, 503, full.text);
  assert.equal((full.json as { error: string }).error, 'replay_cache_full');
  assert.equal(full.headers['retry-after'], '1');

  let now = 1_000_000_000_000;
  const v = new HmacVerifier([SECRET], 60, { now: () => now, maxSeen: 2 });
  const ts = Math.floor(now / 1000);
  const body = Buffer.from('{}');
  const sig = (p: string): string => signRequest(SECRET, ts, 'POST', p, '{}');
  assert.equal(v.verify(String(ts), sig('/a'), 'POST', '/a', body), undefined);
  assert.equal(v.verify(String(ts), sig('/b'), 'POST', '/b', body), undefined);
  assert.equal(v.verify(String(ts), sig('/c'), 'POST', '/c', body), 'replay_cache_full');
  assert.equal(v.verify(String(ts), sig('/a'), 'POST', '/a', body), 'replayed');
  // Once the timestamp is stale the signatures are forgotten (and could not be replayed anyway).
  now += 62_000;
  const ts2 = Math.floor(now / 1000);
  assert.equal(v.verify(String(ts2), signRequest(SECRET, ts2, 'POST', '/c', '{}'), 'POST', '/c', body), undefined);
  assert.equal(v.remembered, 1);
  assert.equal(v.verify(String(ts), sig('/a'), 'POST', '/a', body), 'stale_timestamp');
});
