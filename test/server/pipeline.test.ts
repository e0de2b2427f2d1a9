/**
 * The one connection pipeline of `parley serve`: an app's endpoint (`/poker/ws`) and the admin
 * feed (`/admin/ws`) meet the same per-address connection rate, `limits.maxConnections`, message
 * rate, metrics and graceful shutdown as `/ws` (issue 22 item 2: they used to skip all of them).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from '../../src/index.js';
import { Peer } from '../apps/poker/helpers.js';
import { metric, request, serve, upgradeRequest, v1, waitFor, type Overrides } from './helpers.js';

/** The server with `apps` (default: poker) and a data directory removed after the test. */
function serveApps(t: TestContext, overrides: Overrides = {}, options: Parameters<typeof serve>[2] = {}): ReturnType<typeof serve> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-pipeline-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  return serve(t, { apps: ['poker'], dataDir, ...overrides }, options);
}

void test('limits.maxConnections counts every endpoint: /ws, /poker/ws and /admin/ws share it', async (t) => {
  const s = await serveApps(t, { limits: { maxConnections: 3, connectionsPerIpPerSecond: 0 } });
  const poker = `ws://127.0.0.1:${s.port}/poker/ws`;
  const a = await Peer.open(poker);
  const b = await Peer.open(poker);
  t.after(() => { a.close(); b.close(); });
  await v1(t, s.wsUrl);
  for (const path of ['/poker/ws', '/ws', '/admin/ws']) {
    const refused = await upgradeRequest(s.port, path, { 'Sec-WebSocket-Protocol': 'parley.v1' });
    assert.equal(refused.status, 503, path);
    assert.equal(refused.headers['retry-after'], '5');
  }
  // One closes: there is room again, on any endpoint.
  a.close();
  const deadline = Date.now() + 5000;
  let status = 0;
  while (status !== 101 && Date.now() < deadline) status = (await upgradeRequest(s.port, '/poker/ws', { 'Sec-WebSocket-Protocol': 'parley.v1' })).status;
  assert.equal(status, 101);
});

void test('the per-address connection rate applies to app endpoints and the admin feed', async (t) => {
  const s = await serveApps(t, { limits: { connectionsPerIpPerSecond: 0.01, connectionBurstPerIp: 2 } });
  assert.equal((await upgradeRequest(s.port, '/poker/ws')).status, 101);
  assert.equal((await upgradeRequest(s.port, '/admin/ws')).status, 101);
  for (const path of ['/poker/ws', '/admin/ws', '/ws']) {
    const refused = await upgradeRequest(s.port, path);
    assert.equal(refused.status, 429, path);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  }
  const m = metric((await request(s.port, 'GET', '/metrics')).text, 'parley_handshake_failures_total{reason="rate_limited"}');
  assert.equal(m, 3);
});

void test('the message rate closes an app connection that floods with 1008', async (t) => {
  const s = await serveApps(t, { limits: { messagesPerSecond: 1, messageBurst: 20 } });
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/poker/ws`, 'parley.v1');
  t.after(() => ws.terminate());
  await waitFor(ws, 'open');
  const closed = waitFor<[number, Buffer]>(ws, 'close', 5000);
  for (let i = 0; i < 200; i++) ws.send(JSON.stringify({ t: 'req', id: i, method: 'tables' }));
  const [code, reason] = await closed;
  assert.equal(code, 1008);
  assert.equal(String(reason), 'message rate limit');
  const text = (await request(s.port, 'GET', '/metrics')).text;
  assert.equal(metric(text, 'parley_limit_closes_total{limit="message_rate"}'), 1);
});

void test('app and admin sockets are counted by endpoint, and a graceful shutdown closes them with its code', async (t) => {
  const s = await serveApps(t);
  const player = await Peer.open(`ws://127.0.0.1:${s.port}/poker/ws`);
  t.after(() => player.close());
  assert.equal((await player.request('tables')).t, 'res');
  const admin = new WebSocket(`ws://127.0.0.1:${s.port}/admin/ws`);
  t.after(() => admin.terminate());
  await waitFor(admin, 'open');
  await v1(t, s.wsUrl);

  const text = (await request(s.port, 'GET', '/metrics')).text;
  assert.equal(metric(text, 'parley_connections{endpoint="/poker/ws",protocol="parley.v1"}'), 1);
  assert.equal(metric(text, 'parley_connections{endpoint="/admin/ws",protocol="plain"}'), 1);
  assert.equal(metric(text, 'parley_connections{endpoint="/ws",protocol="parley.v1"}'), 1);
  assert.equal(metric(text, 'parley_connections_opened_total'), 3);
  // The poker connection's request and reply were counted with everyone's.
  assert.ok(metric(text, 'parley_messages_received_total')! >= 1);
  assert.equal((JSON.parse((await request(s.port, 'GET', '/readyz')).text) as { connections: number }).connections, 3);

  const closed = waitFor<[number, Buffer]>(player.ws, 'close', 5000);
  const adminClosed = waitFor<[number, Buffer]>(admin, 'close', 5000);
  const result = await s.handle.close({ code: 1012, timeoutMs: 3000 });
  assert.equal((await closed)[0], 1012);
  assert.equal((await adminClosed)[0], 1012);
  assert.equal(result.terminated, 0);
});

void test('an app server built without the pipeline\'s connection class gets no unlimited connections', async (t) => {
  const { WebSocketServer } = await import('../../src/index.js');
  const rogue = new WebSocketServer({ noServer: true });
  t.after(() => rogue.close());
  const s = await serveApps(t, { apps: ['rogue'] }, {
    apps: new Map([['rogue', (context) => ({
      name: 'rogue', title: 'Rogue', description: 'forgets the WebSocket option',
      handleRequest: () => false,
      handleUpgrade(req, socket, head) {
        context.sockets!.handleUpgrade(rogue, req, socket, head, () => assert.fail('the connection must not open'));
        return true;
      },
      close: () => Promise.resolve(),
    })]]),
  });
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/rogue/ws`);
  t.after(() => ws.terminate());
  const [code] = await waitFor<[number, Buffer]>(ws, 'close', 5000);
  assert.equal(code, 1011);
  assert.ok(s.logs.lines.some((l) => String(l.msg).includes('lacks the pipeline')));
});
