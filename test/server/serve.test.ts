/**
 * The assembled server: its routes, its start-up failures, and its structured logs (a request id
 * on every HTTP request's line, a connection id on every connection's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from '../../src/index.js';
import { defaultConfig } from '../../src/server/config.js';
import { redactUrl, requestId } from '../../src/server/logger.js';
import { startServer } from '../../src/server/serve.js';
import { defer, LogCapture, post, request, secretKeys, serve, until, upgradeRequest, waitFor } from './helpers.js';

void test('routes: / is the index, unknown paths 404, upgrades only at /ws', async (t) => {
  const s = await serve(t);
  assert.equal(s.handle.address.url, `http://127.0.0.1:${s.port}`);
  assert.equal(s.handle.address.wsUrl, s.wsUrl);
  assert.match((await request(s.port, 'GET', '/')).text, /<h1>Parley<\/h1>/);
  assert.equal((await request(s.port, 'GET', '/nothing')).status, 404);
  assert.equal((await upgradeRequest(s.port, '/elsewhere')).status, 404);
  assert.equal((await upgradeRequest(s.port, '/ws')).status, 101);
  assert.equal(s.handle.ready, true);
});

void test('a port already in use fails the start (and leaves nothing open)', async (t) => {
  const s = await serve(t);
  const config = defaultConfig({ port: s.port, log: { level: 'silent' } });
  await assert.rejects(startServer(config, { logDestination: new LogCapture() }), /EADDRINUSE/);
});

void test('logs: HTTP requests carry the caller\'s X-Request-Id, connections their id from open to close', async (t) => {
  const s = await serve(t, { api: { keys: ['log-test-api-key-01234'] } });
  const r = await request(s.port, 'POST', '/api/topics/news/publish', {
    headers: { Authorization: 'Bearer log-test-api-key-01234', 'Content-Type': 'application/json', 'X-Request-Id': 'backend-42' },
    body: '{"data":1}',
  });
  assert.equal(r.headers['x-request-id'], 'backend-42');
  const apiLine = s.logs.lines.find((l) => l.msg === 'api request');
  assert.equal(apiLine?.reqId, 'backend-42');
  assert.equal(apiLine?.route, 'publish_topic');
  assert.equal(apiLine?.level, 'info');
  assert.ok(!s.logs.text.includes('log-test-api-key-01234'), 'the API key was logged');
  // A made-up id with odd characters is replaced, not logged as given.
  const odd = await post(s.port, '/api/topics/news/publish', { data: 1 }, 'wrong-key-0123456789');
  assert.equal(String(odd.headers['x-request-id']).length, 16);

  const ws = new WebSocket(`${s.wsUrl}?token=`);
  defer(t, () => ws.terminate());
  await waitFor(ws, 'open');
  ws.close(1000);
  await until(() => s.logs.lines.some((l) => l.msg === 'connection closed'), 2000, 'the close log line');
  const opened = s.logs.lines.find((l) => l.msg === 'connection opened')!;
  const closed = s.logs.lines.find((l) => l.msg === 'connection closed')!;
  assert.equal(typeof opened.conn, 'string');
  assert.equal(closed.conn, opened.conn);
  assert.equal(closed.code, 1000);
  assert.equal(opened.ip, '127.0.0.1');
});

void test('redactUrl hides tokens and keys; requestId accepts only plain ids', () => {
  assert.equal(redactUrl('/ws?token=abc.def.ghi&room=1'), '/ws?token=[redacted]&room=1');
  assert.equal(redactUrl('/ws?room=1'), '/ws?room=1');
  assert.equal(redactUrl('/admin/ws?key=s3cret'), '/admin/ws?key=[redacted]');
  assert.equal(redactUrl(undefined), '/');
  const req = (id: string): Parameters<typeof requestId>[0] => ({ headers: { 'x-request-id': id } }) as never;
  assert.equal(requestId(req('abc-123')), 'abc-123');
  assert.notEqual(requestId(req('bad id\nwith newline')), 'bad id\nwith newline');
  assert.notEqual(requestId(req('x'.repeat(65))), 'x'.repeat(65));
});

void test('a throw on a connection\'s setup path closes that connection with 1011; the server carries on', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  let thrown = 0;
  s.handle.wss.on('connection', () => {
    thrown++;
    throw new Error('a listener bug');
  });
  const token = await keys.sign({ sub: 'alice' }, { expiresIn: '5m' });
  const ws = new WebSocket(`${s.wsUrl}?token=${token}`);
  defer(t, () => ws.terminate());
  const [code] = await waitFor<[number]>(ws, 'close', 5000);
  assert.equal(code, 1011);
  assert.equal(thrown, 1);
  assert.ok(s.logs.lines.some((l) => l.msg === 'connection setup failed: closing with 1011'));
  assert.equal((await request(s.port, 'GET', '/healthz')).status, 200);
});
