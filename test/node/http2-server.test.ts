/**
 * RFC 8441 on the server: Node's own http2 client speaks extended CONNECT to a Parley
 * WebSocketServer attached to an HTTP/2 server, frames built by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import * as http2 from 'node:http2';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { WebSocket, WebSocketServer, onExtendedConnect } from '../../src/node/index.js';
import { OP } from '../support/frames.js';
import { connectHeaders, h2Peer, h2Session, masked, startH2 } from '../support/h2-peer.js';
import { makeCertificate } from '../support/tls.js';
import { defer, openClient, waitFor, withTimeout } from './helpers.js';

const T = { timeout: 20_000 };

void test('extended CONNECT opens a WebSocket: 200 without Sec-WebSocket-Accept, subprotocol chosen, the same connection event and API', T, async (t) => {
  const s = await startH2(t, { handleProtocols: (set) => (set.has('chat') ? 'chat' : false) });
  const seen = waitFor<[WebSocket, http2.Http2ServerRequest]>(s.wss, 'connection');
  const session = await h2Session(t, s.port);
  assert.equal(session.remoteSettings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL advertised (RFC 8441 §3)');
  const peer = await h2Peer(session, connectHeaders(s.port, '/room?x=1', { 'sec-websocket-protocol': 'other, chat', origin: 'https://example.test' }));
  assert.equal(peer.status, 200);
  assert.equal(peer.response['sec-websocket-protocol'], 'chat');
  assert.equal(peer.response['sec-websocket-accept'], undefined, 'RFC 8441 §5: no Sec-WebSocket-Accept');
  assert.equal(peer.response.upgrade, undefined);
  const [ws, req] = await seen;
  assert.equal(ws.protocol, 'chat');
  assert.equal(req.url, '/room?x=1');
  assert.equal(req.headers.origin, 'https://example.test');
  assert.equal(req.httpVersion, '2.0');
  assert.equal(req.socket.remoteAddress, '127.0.0.1');

  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  peer.write(masked(OP.TEXT, 'héllo'));
  peer.write(masked(OP.BINARY, Buffer.from([1, 2, 3])));
  const frames = await peer.waitFrames(2);
  assert.deepEqual(frames.map((f) => [f.opcode, f.masked, Buffer.from(f.payload).toString('hex')]), [
    [OP.TEXT, false, Buffer.from('héllo').toString('hex')],
    [OP.BINARY, false, '010203'],
  ]);
});

void test('permessage-deflate is negotiated and used over the stream (RFC 7692 on RFC 8441)', T, async (t) => {
  const s = await startH2(t, { perMessageDeflate: true });
  const seen = waitFor<[WebSocket]>(s.wss, 'connection');
  const session = await h2Session(t, s.port);
  const peer = await h2Peer(session, connectHeaders(s.port, '/', { 'sec-websocket-extensions': 'permessage-deflate; client_no_context_takeover' }));
  assert.match(String(peer.response['sec-websocket-extensions']), /^permessage-deflate/);
  const [ws] = await seen;
  assert.match(ws.extensions, /permessage-deflate/);
  const got = waitFor<[Buffer, boolean]>(ws, 'message');
  const text = 'compressed over http/2 '.repeat(100);
  // RFC 7692 §7.2.1: deflate, then drop the trailing 00 00 ff ff.
  const body = deflateRawSync(Buffer.from(text), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  peer.write(masked(OP.TEXT, body.subarray(0, body.length - 4), true, 4));
  const [data] = await got;
  assert.equal(String(data), text);
  ws.send(text);
  const [frame] = await peer.waitFrames(1);
  assert.equal(frame!.rsv, 4, 'the server compressed its message (RSV1)');
  assert.equal(inflateRawSync(Buffer.concat([Buffer.from(frame!.payload), Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString(), text);
});

void test('the close handshake ends the stream (END_STREAM both ways), terminate() resets it with CANCEL (RFC 8441 §5)', T, async (t) => {
  const s = await startH2(t);
  const session = await h2Session(t, s.port);

  const first = waitFor<[WebSocket]>(s.wss, 'connection');
  const peer = await h2Peer(session, connectHeaders(s.port));
  const [ws] = await first;
  const closed = waitFor<[number, Buffer]>(ws, 'close', 5000);
  ws.close(1000, 'bye');
  const [closeFrame] = await peer.waitFrames(1);
  assert.equal(closeFrame!.opcode, OP.CLOSE);
  assert.equal(Buffer.from(closeFrame!.payload).readUInt16BE(0), 1000);
  peer.write(masked(OP.CLOSE, Buffer.from([0x03, 0xe8])));
  await withTimeout(peer.ended, 3000, 'END_STREAM from the server');
  peer.stream.end();
  const [code, reason] = await closed;
  assert.equal(code, 1000, 'the code the peer sent');
  assert.equal(String(reason), '');
  assert.equal(await peer.closed, 0, 'an orderly close resets nothing');

  const second = waitFor<[WebSocket]>(s.wss, 'connection');
  const peer2 = await h2Peer(session, connectHeaders(s.port));
  const [ws2] = await second;
  ws2.terminate();
  assert.equal(await withTimeout(peer2.closed, 3000, 'the reset'), http2.constants.NGHTTP2_CANCEL);

  // A client's RST_STREAM is the server's abnormal closure, 1006.
  const third = waitFor<[WebSocket]>(s.wss, 'connection');
  const peer3 = await h2Peer(session, connectHeaders(s.port));
  const [ws3] = await third;
  const closed3 = waitFor<[number]>(ws3, 'close', 3000);
  peer3.stream.close(http2.constants.NGHTTP2_CANCEL);
  assert.equal((await closed3)[0], 1006);
  // The session outlives its WebSockets' streams.
  assert.equal(session.closed, false);
});

void test('refusals are HTTP/2 responses: bad version 400, verifyClient 401, origin 403, another path 404', T, async (t) => {
  const s = await startH2(t, { path: '/ws', origins: ['https://ok.test'], verifyClient: (info: { req: { url?: string } }) => !info.req.url!.includes('deny') });
  const session = await h2Session(t, s.port);
  const version = await h2Peer(session, connectHeaders(s.port, '/ws', { 'sec-websocket-version': '8' }));
  assert.equal(version.status, 400);
  assert.equal(version.response['sec-websocket-version'], '13');
  assert.equal((await h2Peer(session, connectHeaders(s.port, '/ws?deny', { origin: 'https://ok.test' }))).status, 401);
  assert.equal((await h2Peer(session, connectHeaders(s.port, '/ws', { origin: 'https://evil.test' }))).status, 403);
  assert.equal((await h2Peer(session, connectHeaders(s.port, '/elsewhere'))).status, 404);
  assert.equal((await h2Peer(session, connectHeaders(s.port, '/ws', { origin: 'https://ok.test' }))).status, 200);
  // Plain requests still reach the application; a plain CONNECT still gets Node's 405.
  const plain = session.request({ ':path': '/page' });
  const [headers] = await waitFor<[http2.IncomingHttpHeaders]>(plain, 'response');
  assert.equal(headers[':status'], 200);
  plain.resume();
  const connect = session.request({ ':method': 'CONNECT', ':authority': 'example.test:443' }, { endStream: false });
  const [connectHeadersIn] = await waitFor<[http2.IncomingHttpHeaders]>(connect, 'response');
  assert.equal(connectHeadersIn[':status'], 405);
  connect.close();
});

void test('SETTINGS_ENABLE_CONNECT_PROTOCOL is advertised only while a WebSocketServer is attached; later CONNECTs on old sessions get 503, never silence', T, async (t) => {
  const bare = await startH2(t, { attach: false });
  const s0 = await h2Session(t, bare.port);
  assert.notEqual(s0.remoteSettings.enableConnectProtocol, true, 'an HTTP/2 server without a WebSocket server must not advertise (the Chrome 121 trap)');

  const s = await startH2(t);
  const before = await h2Session(t, s.port);
  assert.equal(before.remoteSettings.enableConnectProtocol, true);
  s.wss.close();
  const after = await h2Session(t, s.port);
  assert.notEqual(after.remoteSettings.enableConnectProtocol, true, 'withdrawn from new sessions after close()');
  const late = await h2Peer(before, connectHeaders(s.port));
  assert.equal(late.status, 503);
});

void test('TLS with allowHTTP1: HTTP/1.1 upgrades and HTTP/2 streams reach the same WebSocketServer', T, async (t) => {
  const cert = makeCertificate(t);
  if (cert === undefined) return;
  const s = await startH2(t, { tls: { cert: cert.cert, key: cert.key } });
  const h1 = await openClient(t, `wss://127.0.0.1:${s.port}/`, undefined, { ca: cert.cert });
  const session = await h2Session(t, s.port, { ca: cert.cert });
  const peer = await h2Peer(session, { ...connectHeaders(s.port), ':scheme': 'https' });
  assert.equal(peer.status, 200);
  assert.equal(s.conns.length, 2);
  assert.equal(s.wss.clients.size, 2);
  assert.ok(h1.readyState === WebSocket.OPEN);
  assert.equal(s.wss.broadcast('to both'), 2);
  const [frame] = await peer.waitFrames(1);
  assert.equal(Buffer.from(frame!.payload).toString(), 'to both');
});

void test('backpressure comes from the stream: a peer that stops reading fills bufferedAmount, reading again drains it', T, async (t) => {
  const s = await startH2(t);
  const seen = waitFor<[WebSocket]>(s.wss, 'connection');
  const session = await h2Session(t, s.port);
  const peer = await h2Peer(session, connectHeaders(s.port));
  const [ws] = await seen;
  peer.stream.pause();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let below = true;
  for (let i = 0; i < 64 && below; i++) below = ws.send(chunk);
  assert.equal(below, false, 'send() reports the stream above its high-water mark');
  assert.ok(ws.bufferedAmount > 0);
  const drained = waitFor(ws, 'drain', 10_000);
  peer.stream.resume();
  await drained;
});

void test('onExtendedConnect (noServer): an HTTP/1.1 refusal written by a ws-style listener becomes the HTTP/2 response', T, async (t) => {
  const server = http2.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const detach = onExtendedConnect(server, (req, stream, head) => {
    if (req.url === '/deny') {
      stream.write('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n\r\n');
      stream.destroy();
      return true;
    }
    wss.handleUpgrade(req, stream, head, (ws) => wss.emit('connection', ws, req));
    return true;
  });
  defer(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const session = await h2Session(t, port);
  const denied = await h2Peer(session, connectHeaders(port, '/deny'));
  assert.equal(denied.status, 401);
  assert.equal(denied.response['www-authenticate'], 'Bearer');
  const ok = await h2Peer(session, connectHeaders(port, '/'));
  assert.equal(ok.status, 200);
  ok.stream.close();
  for (const ws of wss.clients) ws.terminate();
  detach();
});
