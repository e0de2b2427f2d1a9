/**
 * createWebSocketStream: messages in as chunks, chunks out as messages, writes made before the
 * connection opens, object mode, backpressure reaching the socket (pause/resume), ending the
 * writable side closing the connection, destroy terminating it, and errors reaching the stream.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocket, createWebSocketStream } from '../../src/index.js';
import { defer, openClient, startServer, until, waitFor } from './helpers.js';

/** A server echoing every message with its type, and its URL. */
async function echoServer(t: Parameters<typeof startServer>[0]): Promise<{ url: string; serverSide: Promise<[WebSocket]> }> {
  const { wss, url } = await startServer(t);
  const serverSide = waitFor<[WebSocket]>(wss, 'connection');
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return { url, serverSide };
}

void describe('createWebSocketStream', () => {
  void test('chunks written are sent as messages, messages read are chunks; writes wait for open', async (t) => {
    const { url } = await echoServer(t);
    const ws = new WebSocket(url);
    defer(t, () => ws.terminate());
    const duplex = createWebSocketStream(ws);
    // Written while CONNECTING: sent once open.
    duplex.write('hello');
    duplex.write(Buffer.from([1, 2, 3]));
    const chunks: Buffer[] = [];
    duplex.on('data', (chunk: Buffer) => chunks.push(chunk));
    await until(() => chunks.length === 2, 3000, 'two echoes');
    assert.ok(chunks.every((c) => Buffer.isBuffer(c)));
    assert.equal(chunks[0]!.toString(), 'hello');
    assert.deepEqual([...chunks[1]!], [1, 2, 3]);
  });

  void test('readableObjectMode reads text messages as strings and binary ones as Buffers', async (t) => {
    const { url } = await echoServer(t);
    const ws = await openClient(t, url);
    const duplex = createWebSocketStream(ws, { readableObjectMode: true });
    const got: unknown[] = [];
    duplex.on('data', (chunk: unknown) => got.push(chunk));
    ws.send('text');
    ws.send(Buffer.from('bin'));
    await until(() => got.length === 2, 3000, 'two messages');
    assert.equal(got[0], 'text');
    assert.ok(Buffer.isBuffer(got[1]));
  });

  void test('ending the writable side closes the connection; the readable side then ends and the stream closes', async (t) => {
    const { url, serverSide } = await echoServer(t);
    const ws = await openClient(t, url);
    const [server] = await serverSide;
    const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
    const read: string[] = [];
    duplex.on('data', (chunk: string) => read.push(chunk));
    const serverClosed = waitFor<[number, Buffer]>(server, 'close', 3000);
    const streamClosed = waitFor(duplex, 'close', 3000);
    duplex.end('last words');
    const [code] = await serverClosed;
    await streamClosed;
    assert.equal(code, 1005); // close() without a code (RFC 6455 §7.1.5)
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.ok(duplex.readableEnded && duplex.writableFinished && duplex.destroyed);
  });

  void test('a slow reader pauses the socket, and reading resumes it', async (t) => {
    const { wss, url } = await startServer(t);
    const [[server], ws] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, url)]);
    const duplex = createWebSocketStream(ws, { highWaterMark: 16 });
    // Nothing reads yet: the readable buffer fills past its mark and the socket is paused.
    for (let i = 0; i < 8; i++) server.send(Buffer.alloc(64));
    await until(() => ws.isPaused, 3000, 'the socket to be paused');
    let bytes = 0;
    await pipeline(duplex, new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes === 8 * 64) ws.close();
        callback();
      },
    }));
    assert.equal(bytes, 8 * 64);
    assert.equal(ws.isPaused, false);
  });

  void test('destroying the stream terminates the connection and emits close', async (t) => {
    const { url, serverSide } = await echoServer(t);
    const ws = await openClient(t, url);
    const [server] = await serverSide;
    const duplex = createWebSocketStream(ws);
    const serverClosed = waitFor<[number, Buffer]>(server, 'close', 3000);
    const streamClosed = waitFor(duplex, 'close', 3000);
    duplex.destroy();
    await streamClosed;
    const [code] = await serverClosed;
    assert.equal(code, 1006); // terminated: no close frame (RFC 6455 §7.1.5)
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  void test("the connection's error destroys the stream with it", async (t) => {
    const { wss, url } = await startServer(t);
    const [[server], ws] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, url, undefined, { maxPayload: 4 })]);
    const duplex = createWebSocketStream(ws);
    const gotError = waitFor<[Error]>(duplex, 'error', 3000);
    const closed = waitFor(duplex, 'close', 3000);
    server.send('more than four bytes'); // over the client's maxPayload: it fails with 1009
    const [error] = await gotError;
    assert.equal((error as Error & { closeCode?: number }).closeCode, 1009);
    assert.ok(duplex.destroyed);
    await closed;
  });
});
