/**
 * `/metrics`, `/healthz` and `/readyz` over HTTP after real traffic: connections by protocol,
 * messages and bytes both ways, publishes and deliveries, drops under the slow-consumer policy,
 * handshake failures by reason, recovery outcomes, adapter health.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { InMemoryAdapter, WebSocket, type ClusterAdapter } from '../../src/index.js';
import { defer, metric, post, request, serve, upgradeRequest, v1, waitFor } from './helpers.js';

const KEY = 'metrics-test-api-key-0123';

/** A raw client that completes the handshake and then never reads: the slowest consumer. */
async function neverReads(t: Parameters<typeof serve>[0], port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  defer(t, () => socket.destroy());
  await waitFor(socket, 'connect');
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return socket;
}

void test('metrics content after traffic: connections, messages, bytes, publishes, deliveries, drops, handshake failures, recoveries', async (t) => {
  const s = await serve(t, { api: { keys: [KEY] }, limits: { maxQueuedBytes: 65_536 } });
  const wss = s.handle.wss;
  const c = await v1(t, s.wsUrl);
  const plain = new WebSocket(s.wsUrl);
  defer(t, () => plain.terminate());
  await waitFor(plain, 'open');

  c.send({ t: 'sub', id: 1, topic: 'public:news' });
  const subok = await c.nextOf('subok');
  for (let i = 0; i < 3; i++) assert.equal((await post(s.port, '/api/topics/public:news/publish', { data: i }, KEY)).status, 200);
  const last = await c.nextOf('msg');
  assert.equal(last.data, 0);
  await c.nextOf('msg');
  const third = await c.nextOf('msg');

  // Recoveries: one that can be served from history, one that cannot (an epoch the server never had).
  c.send({ t: 'sub', id: 2, topic: 'public:news', since: { epoch: subok.epoch, offset: 1 } });
  assert.equal((await c.nextOf('subok')).recovered, true);
  c.send({ t: 'sub', id: 3, topic: 'public:news', since: { epoch: 'nope', offset: 1 } });
  assert.equal((await c.nextOf('subok')).recovered, false);
  assert.equal(third.offset, 3);

  // A slow consumer: a client that never reads, subscribed to a firehose of 64 KiB messages, one
  // per event-loop turn, until the kernel's buffers are full and its queue passes the 64 KiB cap
  // (the drop policy then skips it), then 20 more.
  await neverReads(t, s.port);
  while (wss.clients.size < 3) await new Promise((resolve) => setTimeout(resolve, 10));
  const raw = [...wss.clients].at(-1) as WebSocket;
  raw.subscribe('firehose');
  const chunk = 'x'.repeat(64 * 1024);
  let published = 0;
  let dropped = 0;
  while (dropped < 20 && published < 2000) {
    published++;
    if (wss.publish('firehose', chunk).status === 'dropped') dropped++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(dropped, 20);

  // Handshake failures of two kinds.
  assert.equal((await upgradeRequest(s.port, '/ws', { 'Sec-WebSocket-Key': 'short' })).status, 400);
  assert.equal((await upgradeRequest(s.port, '/ws?token=abc')).status, 401);

  const r = await request(s.port, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  const text = r.text;
  const m = (series: string): number => {
    const value = metric(text, series);
    assert.notEqual(value, undefined, `${series} missing`);
    return value!;
  };
  assert.equal(m('parley_connections{endpoint="/ws",protocol="parley.v1"}'), 1);
  assert.equal(m('parley_connections{endpoint="/ws",protocol="plain"}'), 2);
  assert.equal(m('parley_connections_opened_total'), 3);
  assert.equal(m('parley_messages_received_total'), 3); // three sub envelopes
  // hello, 3 subok, 3 msg, 2 replayed msg, and the firehose deliveries.
  assert.equal(m('parley_messages_sent_total'), 9 + published - dropped);
  assert.ok(m('parley_bytes_received_total') > 0);
  // Wire bytes: at least the 32 KiB payload of every delivery made.
  assert.ok(m('parley_bytes_sent_total') > (published - dropped) * 64 * 1024);
  assert.equal(m('parley_publishes_total'), 3 + published);
  assert.equal(m('parley_api_publishes_total{target="topic"}'), 3);
  assert.equal(m('parley_deliveries_total'), 3 + published - dropped);
  assert.equal(m('parley_drops_total{policy="drop"}'), dropped);
  assert.equal(m('parley_drops_total{policy="close"}'), 0);
  assert.equal(m('parley_recoveries_total{outcome="recovered"}'), 1);
  assert.equal(m('parley_recoveries_total{outcome="reset"}'), 1);
  assert.equal(m('parley_handshake_failures_total{reason="bad_request"}'), 1);
  assert.equal(m('parley_handshake_failures_total{reason="bad_signature"}'), 1);
  assert.ok(m('parley_queued_bytes') > 65_536);
  assert.equal(m('parley_slow_consumers'), 1);
  assert.equal(m('parley_adapter_healthy{adapter="memory"}'), 1);
  assert.equal(m('parley_shutting_down'), 0);
  assert.equal(m('parley_http_requests_total{route="publish_topic",status="200"}'), 3);
});

void test('healthz and readyz answer 200 with JSON; metrics can require a token', async (t) => {
  const s = await serve(t, { metrics: { token: 'scrape-token' } });
  const health = await request(s.port, 'GET', '/healthz');
  assert.equal(health.status, 200);
  assert.equal((health.json as { status: string }).status, 'ok');
  const ready = await request(s.port, 'GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { ready: true, shuttingDown: false, adapter: { kind: 'memory', healthy: true }, connections: 0 });
  assert.equal((await request(s.port, 'GET', '/metrics')).status, 401);
  const scraped = await request(s.port, 'GET', '/metrics', { headers: { Authorization: 'Bearer scrape-token' } });
  assert.equal(scraped.status, 200);
  assert.match(scraped.text, /# TYPE parley_connections gauge/);
  assert.equal(scraped.headers['x-request-id']?.length, 16);
});

void test('readyz is 503 and the health gauge 0 while the adapter reports itself unhealthy', async (t) => {
  let healthy = true;
  // The Redis adapter's shape: a ClusterAdapter with isHealthy().
  const adapter = Object.assign(new InMemoryAdapter(), { isHealthy: () => healthy }) as ClusterAdapter;
  const s = await serve(t, {}, { adapter });
  assert.equal((await request(s.port, 'GET', '/readyz')).status, 200);
  healthy = false;
  const ready = await request(s.port, 'GET', '/readyz');
  assert.equal(ready.status, 503);
  assert.equal((ready.json as { adapter: { healthy: boolean } }).adapter.healthy, false);
  assert.equal(metric((await request(s.port, 'GET', '/metrics')).text, 'parley_adapter_healthy{adapter="memory"}'), 0);
  // Liveness is not readiness: the process is still healthy.
  assert.equal((await request(s.port, 'GET', '/healthz')).status, 200);
});
