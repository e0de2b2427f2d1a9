/** `WebSocketStream` (WHATWG proposal) against a Parley server, over HTTP/1.1 and HTTP/2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocketError, WebSocketStream, type WebSocket } from '../../src/node/index.js';
import { startH2 } from '../support/h2-peer.js';
import { startServer, until, waitFor } from './helpers.js';

const T = { timeout: 20_000 };

void test('opened gives readable and writable streams, protocol and extensions; messages flow both ways as strings and Uint8Arrays', T, async (t) => {
  const s = await startServer(t, { handleProtocols: () => 'chat' });
  s.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const wss = new WebSocketStream(`${s.url}/x`, { protocols: ['chat'] });
  const { readable, writable, protocol, extensions } = await wss.opened;
  assert.equal(protocol, 'chat');
  assert.equal(extensions, '');
  const writer = writable.getWriter();
  await writer.write('héllo');
  await writer.write(new Uint8Array([1, 2, 3]));
  await writer.write(new Uint16Array([0x0102]).buffer);
  const reader = readable.getReader();
  assert.equal((await reader.read()).value, 'héllo');
  const bin = (await reader.read()).value;
  assert.ok(bin instanceof Uint8Array);
  assert.deepEqual([...bin], [1, 2, 3]);
  assert.equal(((await reader.read()).value as Uint8Array).length, 2);
  wss.close({ closeCode: 4000, reason: 'done' });
  assert.deepEqual(await wss.closed, { closeCode: 4000, reason: 'done' });
  assert.equal((await reader.read()).done, true, 'the readable side ends with the close');
});

void test('readable backpressure: a consumer that does not read pauses the socket, and the server queue grows', T, async (t) => {
  const s = await startServer(t);
  const seen = waitFor<[WebSocket]>(s.wss, 'connection');
  const wss = new WebSocketStream(s.url, { readableHighWaterMark: 2 });
  const { readable } = await wss.opened;
  const [server] = await seen;
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let sent = 0;
  // Nobody reads: the client stops reading after 2 messages, the kernel buffers fill and the
  // server's queue grows. A client that kept reading would keep it near 0.
  while (server.bufferedAmount < 4 * 1024 * 1024 && sent < 2000) {
    server.send(chunk);
    sent++;
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(server.bufferedAmount >= 4 * 1024 * 1024, `the server's queue grew to ${server.bufferedAmount} B after ${sent} messages`);
  const reader = readable.getReader();
  for (let read = 0; read < sent; read++) {
    const { value } = await reader.read();
    assert.equal((value as Uint8Array).length, chunk.length);
  }
  await until(() => server.bufferedAmount === 0, 10_000, 'the server queue to drain');
  wss.close();
});

void test('cancel/abort with a WebSocketError choose the close code; bad close arguments throw DOMExceptions; an abort signal stops the handshake', T, async (t) => {
  const s = await startServer(t);
  const codes: number[] = [];
  s.wss.on('connection', (ws) => ws.on('close', (code) => codes.push(code)));
  const a = new WebSocketStream(s.url);
  const { readable } = await a.opened;
  await readable.cancel(new WebSocketError('bye', { closeCode: 4001, reason: 'cancelled' }));
  assert.deepEqual(await a.closed, { closeCode: 4001, reason: 'cancelled' });

  const b = new WebSocketStream(s.url);
  const { writable } = await b.opened;
  await writable.close();
  assert.equal((await b.closed).closeCode, 1005, 'writable.close() sends a close frame without a code');

  assert.throws(() => b.close({ closeCode: 1001 }), (e: unknown) => e instanceof DOMException && e.name === 'InvalidAccessError');
  assert.throws(() => b.close({ reason: 'x'.repeat(124) }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
  assert.throws(() => new WebSocketError('', { closeCode: 1006 }), DOMException);

  const controller = new AbortController();
  controller.abort(new Error('not wanted'));
  const c = new WebSocketStream(s.url, { signal: controller.signal });
  await assert.rejects(c.opened, /not wanted/);
  await assert.rejects(c.closed, /not wanted/);
  await until(() => codes.length === 2);
  assert.deepEqual(codes, [4001, 1005]);
});

void test('an unclean close rejects closed with a WebSocketError of code 1006; WebSocketStream runs over HTTP/2 too', T, async (t) => {
  const s = await startH2(t);
  const seen = waitFor<[WebSocket]>(s.wss, 'connection');
  const stream = new WebSocketStream(`ws://127.0.0.1:${s.port}/`, { http2: true });
  const { readable } = await stream.opened;
  assert.equal(s.sessions.length, 1, 'opened over HTTP/2');
  const [server] = await seen;
  server.terminate();
  await assert.rejects(stream.closed, (e: unknown) => e instanceof WebSocketError && e.closeCode === 1006);
  await assert.rejects(readable.getReader().read(), WebSocketError);

  const refused = new WebSocketStream('ws://127.0.0.1:1/');
  await assert.rejects(refused.opened, WebSocketError);
});
