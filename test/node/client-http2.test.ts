/** Parley's client over HTTP/2 (RFC 8441) to Parley's server, and its fallback to HTTP/1.1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from '../../src/node/index.js';
import { startH2 } from '../support/h2-peer.js';
import { makeCertificate } from '../support/tls.js';
import { defer, failClient, openClient, until, waitFor } from './helpers.js';

const T = { timeout: 20_000 };

async function echo(ws: WebSocket, text: string): Promise<string> {
  const got = waitFor<[Buffer]>(ws, 'message');
  ws.send(text);
  return String((await got)[0]);
}

void test('http2: true opens every WebSocket to an origin as a stream of one shared connection', T, async (t) => {
  const s = await startH2(t, { perMessageDeflate: true, handleProtocols: () => 'chat' });
  s.wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })));
  const clients: WebSocket[] = [];
  for (let i = 0; i < 5; i++) clients.push(await openClient(t, `ws://127.0.0.1:${s.port}/path?i=${i}`, ['chat'], { http2: true, perMessageDeflate: true }));
  assert.equal(s.sessions.length, 1, 'one HTTP/2 connection for five WebSockets');
  assert.equal(s.conns.length, 5);
  for (const [i, ws] of clients.entries()) {
    assert.equal(ws.protocol, 'chat');
    assert.match(ws.extensions, /permessage-deflate/);
    assert.equal(await echo(ws, `hello ${i} `.repeat(200)), `hello ${i} `.repeat(200));
  }
  // Closing them all closes the pooled connection (no idle connection keeps the process alive).
  const closes = clients.map((ws) => waitFor<[number]>(ws, 'close', 5000));
  for (const ws of clients) ws.close(1000);
  for (const c of closes) assert.equal((await c)[0], 1000);
  await until(() => s.sessions[0]!.closed || s.sessions[0]!.destroyed, 5000, 'the pooled session to close');
});

void test('http2: <session> uses the given ClientHttp2Session; a refusal fails the WebSocket with its status', T, async (t) => {
  const s = await startH2(t, { path: '/ws' });
  const session = http2.connect(`http://127.0.0.1:${s.port}`);
  defer(t, () => session.destroy());
  const a = await openClient(t, `ws://127.0.0.1:${s.port}/ws`, undefined, { http2: session });
  const b = await openClient(t, `ws://127.0.0.1:${s.port}/ws`, undefined, { http2: session });
  assert.equal(s.sessions.length, 1);
  assert.equal(a.readyState, WebSocket.OPEN);
  assert.equal(b.readyState, WebSocket.OPEN);
  const failed = await failClient(t, `ws://127.0.0.1:${s.port}/nope`, undefined, { http2: session });
  assert.equal(failed.opened, false);
  assert.match(failed.error.message, /404/);
  assert.equal(session.closed, false, 'a refused stream leaves the session open');
});

void test('without SETTINGS_ENABLE_CONNECT_PROTOCOL the client falls back to an HTTP/1.1 upgrade', T, async (t) => {
  const cert = makeCertificate(t);
  if (cert === undefined) return;
  // An HTTP/2 server whose WebSockets are HTTP/1.1 only: a noServer WebSocketServer on 'upgrade'.
  const server = http2.createSecureServer({ cert: cert.cert, key: cert.key, allowHTTP1: true });
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (session: http2.ServerHttp2Session) => sessions.push(session));
  const wss = new WebSocketServer({ noServer: true });
  const versions: string[] = [];
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => wss.handleUpgrade(req, socket, head, (ws) => {
    versions.push(req.httpVersion);
    wss.emit('connection', ws, req);
  }));
  defer(t, async () => {
    for (const ws of wss.clients) ws.terminate();
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const ws = await openClient(t, `wss://127.0.0.1:${port}/`, undefined, { http2: true, ca: cert.cert });
  assert.deepEqual(versions, ['1.1']);
  assert.equal(ws.readyState, WebSocket.OPEN);

  // A plain HTTP/1.1 server (h2c preface refused) is a fallback too.
  const h1 = http.createServer();
  const wss1 = new WebSocketServer({ server: h1 });
  defer(t, async () => {
    for (const c of wss1.clients) c.terminate();
    h1.closeAllConnections();
    await new Promise<void>((resolve) => h1.close(() => resolve()));
  });
  h1.listen(0, '127.0.0.1');
  await waitFor(h1, 'listening');
  const plain = await openClient(t, `ws://127.0.0.1:${(h1.address() as AddressInfo).port}/`, undefined, { http2: true });
  assert.equal(plain.readyState, WebSocket.OPEN);
  assert.equal(wss1.clients.size, 1);
});
