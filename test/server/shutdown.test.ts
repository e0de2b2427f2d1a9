/**
 * Graceful shutdown. Two servers share one InMemoryAdapter (one cluster in one process) behind a
 * small TCP load balancer that sends each new connection to the first server whose `/readyz`
 * answers 200. Shutting one down sends its clients 1012; a ParleyClient reconnects through the
 * balancer to the other server and recovers every message it missed, in order, once. Also: the
 * drain deadline cuts clients that never answer the close, 1001 when configured, and the CLI
 * process exits 0 on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { InMemoryAdapter, WebSocket } from '../../src/index.js';
import { ParleyClient } from '../../src/client/index.js';
import { spawnCli, watch, finish } from '../cli/helpers.js';
import { defer, request, serve, upgradeRequest, waitFor, until } from './helpers.js';

/** A TCP balancer: each connection goes to the first backend whose /readyz says 200. */
async function balancer(t: Parameters<typeof serve>[0], backends: number[]): Promise<{ port: number; routed: number[] }> {
  const routed: number[] = [];
  const server = net.createServer((client) => {
    client.pause();
    client.on('error', () => client.destroy());
    void (async () => {
      for (const port of backends) {
        const ready = await request(port, 'GET', '/readyz').then((r) => r.status === 200, () => false);
        if (!ready) continue;
        routed.push(port);
        const upstream = net.connect(port, '127.0.0.1');
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
        return;
      }
      client.destroy();
    })();
  });
  defer(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  defer(t, () => { for (const s of sockets) s.destroy(); });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, routed };
}

void test('graceful shutdown: clients get 1012, reconnect to the other server and recover every missed message', async (t) => {
  const adapter = new InMemoryAdapter();
  defer(t, () => adapter.close());
  const a = await serve(t, { shutdown: { timeoutMs: 3000 } }, { adapter });
  const b = await serve(t, {}, { adapter });
  const lb = await balancer(t, [a.port, b.port]);

  const client = new ParleyClient(`ws://127.0.0.1:${lb.port}/ws`, { WebSocket, reconnect: { initialDelay: 20, maxDelay: 100, factor: 2, jitter: 0 } });
  defer(t, () => client.close());
  const closes: number[] = [];
  client.on('close', ({ code }) => closes.push(code));
  const got: Array<[number, unknown]> = [];
  const kinds: string[] = [];
  const sub = client.subscribe('public:orders', (data, info) => got.push([info.offset, data]));
  sub.on('subscribed', ({ kind }) => kinds.push(kind));
  await sub.ready();
  assert.deepEqual(lb.routed, [a.port]);

  a.handle.wss.publish('public:orders', { n: 1 });
  b.handle.wss.publish('public:orders', { n: 2 }); // one cluster: B's publish reaches A's client
  await until(() => got.length === 2, 3000, 'two messages');

  const draining = a.handle.close();
  await until(() => closes.length === 1, 3000, 'the close');
  assert.deepEqual(closes, [1012]);
  // Published while the client is between servers.
  b.handle.wss.publish('public:orders', { n: 3 });
  b.handle.wss.publish('public:orders', { n: 4 });
  const result = await draining;
  assert.deepEqual(result, { closed: 1, terminated: 0 });

  await until(() => got.length === 4, 5000, 'the missed messages');
  b.handle.wss.publish('public:orders', { n: 5 });
  await until(() => got.length === 5, 3000, 'a live message after recovery');
  assert.deepEqual(got, [[1, { n: 1 }], [2, { n: 2 }], [3, { n: 3 }], [4, { n: 4 }], [5, { n: 5 }]]);
  assert.deepEqual(kinds, ['fresh', 'recovered']);
  assert.equal(lb.routed.at(-1), b.port);
  assert.equal(client.stats.duplicates, 0);
  assert.equal(client.stats.resets, 0);
});

void test('during the drain /readyz is 503 and upgrades get 503; the server stops listening after it', async (t) => {
  const s = await serve(t, { shutdown: { timeoutMs: 400 } });
  // A raw client that never answers the close frame keeps the drain open until the deadline.
  const socket = net.connect(s.port, '127.0.0.1');
  defer(t, () => socket.destroy());
  socket.on('error', () => {});
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  await until(() => s.handle.wss.clients.size === 1, 2000, 'the connection');
  const started = Date.now();
  const draining = s.handle.close();
  const ready = await request(s.port, 'GET', '/readyz');
  assert.equal(ready.status, 503);
  assert.equal((ready.json as { shuttingDown: boolean }).shuttingDown, true);
  assert.equal((await upgradeRequest(s.port, '/ws')).status, 503);
  const result = await draining;
  const elapsed = Date.now() - started;
  assert.deepEqual(result, { closed: 0, terminated: 1 });
  assert.ok(elapsed >= 350 && elapsed < 3000, `drained in ${elapsed} ms`);
  await assert.rejects(request(s.port, 'GET', '/healthz'));
});

void test('shutdown.closeCode 1001 tells plain clients the server is going away', async (t) => {
  const s = await serve(t, { shutdown: { closeCode: 1001 } });
  const ws = new WebSocket(s.wsUrl);
  defer(t, () => ws.terminate());
  await waitFor(ws, 'open');
  const closed = waitFor<[number, Buffer]>(ws, 'close', 3000);
  await s.handle.close();
  const [code, reason] = await closed;
  assert.equal(code, 1001);
  assert.equal(String(reason), 'server shutting down');
});

void test('shutdown.spreadMs spreads the close frames over the period', async (t) => {
  const s = await serve(t, { shutdown: { spreadMs: 400, timeoutMs: 3000 } });
  const clients = await Promise.all(Array.from({ length: 4 }, async () => {
    const ws = new WebSocket(s.wsUrl);
    defer(t, () => ws.terminate());
    await waitFor(ws, 'open');
    return ws;
  }));
  const started = Date.now();
  const closedAt = clients.map((ws) => waitFor<[number]>(ws, 'close', 5000).then(([code]) => [code, Date.now() - started] as const));
  await s.handle.close();
  const results = await Promise.all(closedAt);
  assert.deepEqual(results.map(([code]) => code), [1012, 1012, 1012, 1012]);
  const times = results.map(([, ms]) => ms).sort((a, b) => a - b);
  // Connection i of n closes at i/n of the period: 0, 100, 200, 300 ms. Timers never fire early,
  // so the k-th close to arrive cannot come before k × 100 ms (lower bounds only: load only delays).
  times.forEach((ms, k) => assert.ok(ms >= k * 100 - 5, `close ${k} at ${ms} ms`));
});

void test('the parley serve process drains on SIGTERM, sends 1012 and exits 0', async (t) => {
  const child = spawnCli(t, ['serve', '--port', '0', '--shutdown-timeout-ms', '2000', '--log-level', 'warn', '--apps', '']);
  const out = watch(child.stdout);
  const m = await out.waitFor(/WebSocket {2}ws:\/\/127\.0\.0\.1:(\d+)\/ws/);
  const ws = new WebSocket(`ws://127.0.0.1:${m[1]}/ws`);
  defer(t, () => ws.terminate());
  await waitFor(ws, 'open', 5000);
  const closed = waitFor<[number, Buffer]>(ws, 'close', 5000);
  const done = finish(child, 10_000);
  child.kill('SIGTERM');
  const [[code], result] = await Promise.all([closed, done]);
  assert.equal(code, 1012);
  assert.equal(result.code, 0, result.stderr);
});
