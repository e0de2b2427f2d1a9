/**
 * The server's limits over real connections: max connections (HTTP 503 at the handshake), the
 * per-address connection rate (HTTP 429), the per-connection message rate (close 1008) and
 * message size (close 1009); and the token buckets behind them with a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { WebSocket } from '../../src/index.js';
import { AddressRateLimiter, TokenBucket, clientAddress } from '../../src/server/limits.js';
import { defer, metric, serve, upgradeRequest, v1, waitFor } from './helpers.js';

async function open(t: Parameters<typeof serve>[0], url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  defer(t, () => ws.terminate());
  await waitFor(ws, 'open');
  return ws;
}

void test('max connections: the next handshake gets 503 with Retry-After until one closes', async (t) => {
  const s = await serve(t, { limits: { maxConnections: 2 } });
  const a = await open(t, s.wsUrl);
  await open(t, s.wsUrl);
  const refused = await upgradeRequest(s.port, '/ws');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '5');
  assert.equal(metric(await s.handle.metrics.render(), 'parley_handshake_failures_total{reason="max_connections"}'), 1);
  const closed = waitFor(a, 'close');
  a.close();
  await closed;
  // The server sees the close a moment after the client does.
  for (let i = 0; i < 100 && s.handle.wss.clients.size > 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await open(t, s.wsUrl);
});

void test('per-address connection rate: past the burst the handshake gets 429 with Retry-After', async (t) => {
  const s = await serve(t, { limits: { connectionsPerIpPerSecond: 0.5, connectionBurstPerIp: 3 } });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await upgradeRequest(s.port, '/ws')).status);
  assert.deepEqual(statuses, [101, 101, 101, 429, 429]);
  const refused = await upgradeRequest(s.port, '/ws');
  assert.ok(Number(refused.headers['retry-after']) >= 1);
  assert.equal(metric(await s.handle.metrics.render(), 'parley_handshake_failures_total{reason="rate_limited"}'), 3);
});

void test('message rate: a connection that sends faster than the rate is closed with 1008', async (t) => {
  const s = await serve(t, { limits: { messagesPerSecond: 5, messageBurst: 10 } });
  const received: string[] = [];
  s.handle.wss.on('connection', (ws) => ws.on('message', (data: Buffer) => received.push(data.toString('utf8'))));
  const ws = await open(t, s.wsUrl);
  const closed = waitFor<[number, Buffer]>(ws, 'close', 3000);
  for (let i = 0; i < 30; i++) ws.send(`m${i}`);
  const [code, reason] = await closed;
  assert.equal(code, 1008);
  assert.equal(String(reason), 'message rate limit');
  // The burst got through; nothing after the limit reached the application.
  assert.ok(received.length >= 10 && received.length <= 11, `received ${received.length}`);
  assert.equal(metric(await s.handle.metrics.render(), 'parley_limit_closes_total{limit="message_rate"}'), 1);
});

void test('message rate, defaults: a reconnecting ParleyClient with 1,000 topics and a full offline queue is not closed', async (t) => {
  const { ParleyClient } = await import('../../src/client/index.js');
  const s = await serve(t, {});
  const client = new ParleyClient(s.wsUrl, { WebSocket });
  defer(t, () => client.close());
  const topics = Array.from({ length: 1000 }, (_, i) => `public:t${i}`);
  // 1,000 subscriptions and 999 queued publishes (refused by the anonymous rights, answered with
  // FORBIDDEN, but sent) leave together when the client connects: one burst of ~2,000 envelopes.
  for (const topic of topics) client.subscribe(topic, () => undefined);
  const results = Array.from({ length: 999 }, (_, i) => client.publish('public:t0', { i }, { ack: true }).then(() => 'ok', (e: { code?: string }) => e.code ?? 'error'));
  const settled = await Promise.all(results);
  assert.ok(settled.every((r) => r === 'FORBIDDEN'), `every publish answered: ${[...new Set(settled)].join(', ')}`);
  assert.equal(metric(await s.handle.metrics.render(), 'parley_limit_closes_total{limit="message_rate"}') ?? 0, 0);
  assert.equal(s.handle.wss.subscriberCount('public:t999'), 1);
});

void test('message size: a message over limits.maxMessageBytes is closed with 1009', async (t) => {
  const s = await serve(t, { limits: { maxMessageBytes: 1024 } });
  const ws = await open(t, s.wsUrl);
  const closed = waitFor<[number, Buffer]>(ws, 'close', 3000);
  ws.send('x'.repeat(1024)); // exactly at the limit: fine
  ws.send('x'.repeat(1025));
  const [code] = await closed;
  assert.equal(code, 1009);
  for (let i = 0; i < 100; i++) {
    if (metric(await s.handle.metrics.render(), 'parley_limit_closes_total{limit="message_size"}') === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('message_size close not counted');
});

void test('TokenBucket: burst, then the rate', () => {
  const b = new TokenBucket(2, 3, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.equal(b.wait(0), 0.5);
  assert.equal(b.take(499), false);
  assert.equal(b.take(500), true);
  assert.equal(b.full(10_000), true);
  const unlimited = new TokenBucket(0, 1, 0);
  for (let i = 0; i < 100; i++) assert.equal(unlimited.take(0), true);
});

void test('AddressRateLimiter: per address, and bounded in memory', () => {
  let now = 0;
  const limiter = new AddressRateLimiter(1, 2, { now: () => now, maxAddresses: 100 });
  assert.deepEqual([limiter.attempt('a'), limiter.attempt('a'), limiter.attempt('a')], [0, 0, 1]);
  assert.equal(limiter.attempt('b'), 0);
  now += 1000;
  assert.equal(limiter.attempt('a'), 0);
  for (let i = 0; i < 1000; i++) limiter.attempt(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(limiter.size <= 100, `tracking ${limiter.size} addresses`);
});

void test('clientAddress: X-Forwarded-For only behind trusted proxies, counted from the right', () => {
  // The client sent "X-Forwarded-For: 6.6.6.6"; the first proxy appended the client's real
  // address (203.0.113.9), the second the first proxy's (10.0.0.1).
  const req = { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.0.0.1' }, socket: { remoteAddress: '127.0.0.1' } };
  assert.equal(clientAddress(req, false), '127.0.0.1');
  assert.equal(clientAddress(req, 0), '127.0.0.1');
  assert.equal(clientAddress(req, true), '10.0.0.1', 'true is one hop: the rightmost entry');
  assert.equal(clientAddress(req, 1), '10.0.0.1');
  assert.equal(clientAddress(req, 2), '203.0.113.9');
  assert.equal(clientAddress(req, 5), '6.6.6.6', 'fewer entries than hops: the leftmost');
  assert.equal(clientAddress({ headers: { 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] }, socket: {} }, 1), '2.2.2.2');
  assert.equal(clientAddress({ headers: {}, socket: { remoteAddress: '::1' } }, 2), '::1');
});

void test('trustProxy: a client cannot escape the per-address rate by writing its own X-Forwarded-For entries', async (t) => {
  const s = await serve(t, { trustProxy: true, limits: { connectionsPerIpPerSecond: 0.5, connectionBurstPerIp: 3 } });
  const statuses = [];
  // As behind nginx with $proxy_add_x_forwarded_for: the client's made-up entry, then the real one.
  for (let i = 0; i < 5; i++) statuses.push((await upgradeRequest(s.port, '/ws', { 'X-Forwarded-For': `10.9.8.${i}, 198.51.100.7` })).status);
  assert.deepEqual(statuses, [101, 101, 101, 429, 429]);
});

/** A raw TCP connection to the server, collecting what it answers. */
function raw(t: Parameters<typeof serve>[0], port: number): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    defer(t, () => socket.destroy());
    let text = '';
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

void test('slow headers: a client trickling its request head is cut at limits.headersTimeoutMs with 408', async (t) => {
  const s = await serve(t, { limits: { headersTimeoutMs: 1000 } });
  const c = await raw(t, s.port);
  const started = Date.now();
  c.socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const trickle = setInterval(() => { if (!c.socket.destroyed) c.socket.write('X-Slow: a\r\n'); }, 150);
  defer(t, () => clearInterval(trickle));
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, 6000))]);
  clearInterval(trickle);
  assert.match(c.text(), /^HTTP\/1\.1 408 /);
  // Well before Node's own 30 s check would have come round; generous for a loaded machine.
  assert.ok(Date.now() - started < 5000, `cut after ${Date.now() - started} ms`);
  assert.equal((await upgradeRequest(s.port, '/ws')).status, 101);
});

void test('limits.maxSockets caps TCP connections of every kind; a closed one makes room', async (t) => {
  const s = await serve(t, { limits: { maxSockets: 3 } });
  const held = [await raw(t, s.port), await raw(t, s.port), await raw(t, s.port)];
  const extra = await raw(t, s.port);
  await Promise.race([extra.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the 4th socket was not closed')), 3000))]);
  held[0]!.socket.destroy();
  await held[0]!.closed;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await upgradeRequest(s.port, '/ws')).status, 101);
});

void test('presence on parley serve: anonymous clients join public: topics without info; info over limits.maxPresenceBytes is TOO_LARGE', async (t) => {
  const s = await serve(t, { limits: { maxPresenceBytes: 200 } });
  const watcher = await v1(t, s.wsUrl);
  watcher.send({ t: 'sub', id: 1, topic: 'public:lobby' });
  await watcher.nextOf('subok');
  const anon = await v1(t, s.wsUrl);
  anon.send({ t: 'sub', id: 1, topic: 'public:lobby', presence: { html: '<img src=x onerror=alert(1)>' } });
  await anon.nextOf('subok');
  const join = await watcher.nextOf('pres');
  assert.equal((join.member as { info?: unknown }).info, undefined, 'publicPublish is empty: no info reaches others');
  anon.send({ t: 'sub', id: 2, topic: 'public:other', presence: 'x'.repeat(300) });
  assert.equal((await anon.nextOf('err')).code, 'TOO_LARGE');
});
