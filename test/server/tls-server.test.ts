/**
 * `parley serve` with TLS: one port serving HTTP/2 and HTTP/1.1, pages, API and `/ws` over
 * either, the transport counted on the server side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { WebSocket } from '../../src/node/index.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { connectHeaders, h2Peer, h2Session } from '../support/h2-peer.js';
import { makeCertificate } from '../support/tls.js';
import { failClient, openClient } from '../node/helpers.js';
import { metric, serve } from './helpers.js';

const T = { timeout: 20_000 };

function get1(port: number, path: string, ca: string): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body, version: res.httpVersion }));
    }).on('error', reject);
  });
}

async function get2(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  const req = session.request({ ':path': path });
  let body = '';
  const [headers] = await Promise.all([
    new Promise<http2.IncomingHttpHeaders>((resolve) => req.once('response', resolve)),
    new Promise<void>((resolve) => req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve())),
  ]);
  return { status: Number(headers[':status']), body };
}

void test('with tls.cert/tls.key one port serves HTTP/2 and HTTP/1.1: pages, health, metrics and /ws over either, counted by transport', T, async (t) => {
  const cert = makeCertificate(t);
  if (cert === undefined) return;
  const s = await serve(t, { tls: { cert: cert.certFile, key: cert.keyFile } });
  assert.match(s.handle.address.url, /^https:/);
  assert.match(s.handle.address.wsUrl, /^wss:.*\/ws$/);

  const session = await h2Session(t, s.port, { ca: cert.cert });
  assert.equal(session.alpnProtocol, 'h2');
  assert.equal(session.remoteSettings.enableConnectProtocol, true);
  const index = await get2(session, '/');
  assert.equal(index.status, 200);
  assert.match(index.body, /<title>Parley<\/title>/);
  assert.equal((await get2(session, '/healthz')).status, 200);
  const h1 = await get1(s.port, '/healthz', cert.cert);
  assert.equal(h1.status, 200);
  assert.equal(h1.version, '1.1');

  const over2 = await openClient(t, `wss://127.0.0.1:${s.port}/ws`, undefined, { http2: true, ca: cert.cert });
  const over1 = await openClient(t, `wss://127.0.0.1:${s.port}/ws`, undefined, { ca: cert.cert });
  const raw = await h2Peer(session, { ...connectHeaders(s.port, '/ws'), ':scheme': 'https' });
  assert.equal(raw.status, 200);
  assert.equal(over2.readyState, WebSocket.OPEN);
  assert.equal(over1.readyState, WebSocket.OPEN);

  const text = (await get2(session, '/metrics')).body;
  assert.equal(metric(text, 'parley_connections_by_transport_total{transport="h2"}'), 2);
  assert.equal(metric(text, 'parley_connections_by_transport_total{transport="h1"}'), 1);
  assert.equal(metric(text, 'parley_connections_opened_total'), 3);
});

void test('the /ws pipeline refuses over HTTP/2 with real HTTP/2 responses (origin 403, unknown path 404)', T, async (t) => {
  const cert = makeCertificate(t);
  if (cert === undefined) return;
  const s = await serve(t, { tls: { cert: cert.certFile, key: cert.keyFile }, ws: { origins: ['https://ok.test'] } });
  const session = await h2Session(t, s.port, { ca: cert.cert });
  const base = { ...connectHeaders(s.port, '/ws'), ':scheme': 'https' };
  assert.equal((await h2Peer(session, { ...base, origin: 'https://evil.test' })).status, 403);
  assert.equal((await h2Peer(session, { ...base, ':path': '/nowhere' })).status, 404);
  assert.equal((await h2Peer(session, { ...base, origin: 'https://ok.test' })).status, 200);
  const refused = await failClient(t, `wss://127.0.0.1:${s.port}/ws`, undefined, { http2: true, ca: cert.cert, origin: 'https://evil.test' });
  assert.match(refused.error.message, /403/);
  assert.equal(session.closed, false);
});

void test('tls.cert and tls.key go together; unreadable files fail the start naming the setting', async () => {
  assert.throws(() => loadConfig({ flags: { 'tls-cert': '/x/cert.pem' } }), (e: unknown) => e instanceof ConfigError && /tls\.cert .* and tls\.key .* go together/.test(e.message));
  const { config } = loadConfig({ file: { path: 'parley.json', data: { tls: { cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' } } } });
  assert.equal(config.tls.cert, '/nonexistent/c.pem');
  const { startServer } = await import('../../src/server/serve.js');
  await assert.rejects(startServer({ ...config, port: 0, apps: [], log: { level: 'silent' } }), /tls\.cert: cannot read \/nonexistent\/c\.pem: ENOENT/);
});

void test('shutdown drains WebSockets over HTTP/2 with 1012 and ends idle HTTP/2 connections', T, async (t) => {
  const cert = makeCertificate(t);
  if (cert === undefined) return;
  const s = await serve(t, { tls: { cert: cert.certFile, key: cert.keyFile } });
  const idle = await h2Session(t, s.port, { ca: cert.cert });
  assert.equal((await get2(idle, '/healthz')).status, 200);
  const ws = await openClient(t, `wss://127.0.0.1:${s.port}/ws`, undefined, { http2: true, ca: cert.cert });
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
  const t0 = performance.now();
  await s.handle.close({ timeoutMs: 2000 });
  assert.ok(performance.now() - t0 < 8000, 'the shutdown did not wait on open HTTP/2 connections');
  assert.equal(await closed, 1012);
  await idleClosed;
});
