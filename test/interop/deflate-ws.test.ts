/**
 * Interop of permessage-deflate (RFC 7692) with the `ws` package, both roles: a Parley server with
 * a `ws` client and a `ws` server with a Parley client, for each negotiation parameter, with text
 * and binary, context takeover across messages, and fragmented compressed messages.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocket as WsClient, type PerMessageDeflateOptions as WsDeflateOptions, type RawData } from 'ws';
import type { WebSocket as WsSocket } from 'ws';
import { WebSocket, prepareMessage, type PerMessageDeflateOptions } from '../../src/index.js';
import { collectEvents, multiByteText, startParley, startWs, terminateAfter, toBuffer, waitEvent } from './helpers.js';
import { parseFrame } from '../bad-input/raw-peer.js';

type Message = [RawData, boolean];

/** One row of the matrix: what the client offers and what the server imposes. */
interface Combo {
  name: string;
  client: PerMessageDeflateOptions;
  server: PerMessageDeflateOptions;
  /** Parameters the response header must contain (order-free). */
  expect: string[];
}

const COMBOS: Combo[] = [
  { name: 'defaults', client: {}, server: {}, expect: [] },
  { name: 'client asks server_no_context_takeover', client: { serverNoContextTakeover: true }, server: {}, expect: ['server_no_context_takeover'] },
  { name: 'client offers client_no_context_takeover', client: { clientNoContextTakeover: true }, server: {}, expect: ['client_no_context_takeover'] },
  { name: 'server imposes server_no_context_takeover', client: {}, server: { serverNoContextTakeover: true }, expect: ['server_no_context_takeover'] },
  { name: 'server imposes client_no_context_takeover', client: {}, server: { clientNoContextTakeover: true }, expect: ['client_no_context_takeover'] },
  { name: 'client asks server_max_window_bits=9', client: { serverMaxWindowBits: 9 }, server: {}, expect: ['server_max_window_bits=9'] },
  { name: 'client offers client_max_window_bits=10', client: { clientMaxWindowBits: 10 }, server: {}, expect: ['client_max_window_bits=10'] },
  { name: 'server limits client_max_window_bits=11', client: {}, server: { clientMaxWindowBits: 11 }, expect: ['client_max_window_bits=11'] },
  { name: 'server limits server_max_window_bits=12', client: {}, server: { serverMaxWindowBits: 12 }, expect: ['server_max_window_bits=12'] },
  {
    name: 'everything, smallest windows',
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
    server: {},
    expect: ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=9', 'client_max_window_bits=9'],
  },
  {
    name: 'everything, imposed by the server',
    client: {},
    server: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    expect: ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=10', 'client_max_window_bits=10'],
  },
];

/** Compressible payloads of several sizes (small ones too: threshold 0), text and binary. */
function payloads(): Array<string | Buffer> {
  const state = JSON.stringify({ players: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `player ${i}`, x: i * 3 })) });
  return [state, state, 'a', '', multiByteText(3000), Buffer.alloc(100_000, 'abcdefgh'), randomBytes(2000), Buffer.from(state), Buffer.alloc(0), state.repeat(40)];
}

function paramsOf(header: string): string[] {
  return header.split(';').slice(1).map((p) => p.trim()).sort();
}

/** Sends every payload and checks the echo: same bytes, same type. */
async function exchange(sender: { send(d: string | Buffer): void; on(e: 'message', l: (d: RawData, b: boolean) => void): unknown }, what: string): Promise<void> {
  const items = payloads();
  const replies = collectEvents<Message>(sender as never, 'message', items.length, 10_000);
  for (const item of items) sender.send(item);
  for (const [i, [data, isBinary]] of (await replies).entries()) {
    const item = items[i]!;
    assert.equal(isBinary, typeof item !== 'string', `${what}: message ${i} type`);
    assert.ok(toBuffer(data).equals(Buffer.from(item)), `${what}: message ${i} (${Buffer.byteLength(item)} bytes)`);
  }
}

function wsOptions(o: PerMessageDeflateOptions): WsDeflateOptions {
  return { ...o, threshold: 0 } as WsDeflateOptions;
}

void describe('Parley server ↔ ws client, permessage-deflate', () => {
  for (const combo of COMBOS) {
    void test(combo.name, async (t) => {
      const s = await startParley(t, { perMessageDeflate: { ...combo.server, threshold: 0 } }, true);
      const connection = waitEvent<[WebSocket, IncomingMessage]>(s.server, 'connection');
      let response = '';
      const client = new WsClient(s.url, { perMessageDeflate: wsOptions(combo.client) });
      client.on('upgrade', (res: IncomingMessage) => { response = res.headers['sec-websocket-extensions'] ?? ''; });
      terminateAfter(t, client);
      await waitEvent(client, 'open');
      const [server] = await connection;
      assert.equal(server.extensions, 'permessage-deflate', 'ws.extensions names the extension (as ws)');
      assert.ok(response.startsWith('permessage-deflate'), response);
      assert.deepEqual(paramsOf(response), [...combo.expect].sort());
      await exchange(client, 'ws client → Parley server → ws client');
      const socket = (client as unknown as { _socket: { bytesRead: number; bytesWritten: number } })._socket;
      const total = payloads().reduce((n, p) => n + Buffer.byteLength(p), 0);
      assert.ok(socket.bytesWritten < total / 4 && socket.bytesRead < total / 4, `compressed on the wire both ways (${socket.bytesWritten}/${socket.bytesRead} of ${total})`);
    });
  }
});

void describe('ws server ↔ Parley client, permessage-deflate', () => {
  for (const combo of COMBOS) {
    void test(combo.name, async (t) => {
      const s = await startWs(t, { perMessageDeflate: wsOptions(combo.server) }, true);
      const connection = waitEvent<[WsSocket, IncomingMessage]>(s.server, 'connection');
      const client = new WebSocket(s.url, { perMessageDeflate: { ...combo.client, threshold: 0 } });
      let response = '';
      client.on('upgrade', (res: IncomingMessage) => { response = res.headers['sec-websocket-extensions'] ?? ''; });
      terminateAfter(t, client);
      await waitEvent(client, 'open');
      const [peer, req] = await connection;
      assert.equal(client.extensions, 'permessage-deflate', 'ws.extensions names the extension (as ws)');
      assert.deepEqual(paramsOf(response), [...combo.expect].sort(), `offer was ${req.headers['sec-websocket-extensions']}`);
      assert.ok(typeof peer.extensions === 'string' && peer.extensions.includes('permessage-deflate'));
      await exchange(client, 'Parley client → ws server → Parley client');
      const socket = (peer as unknown as { _socket: { bytesRead: number; bytesWritten: number } })._socket;
      const total = payloads().reduce((n, p) => n + Buffer.byteLength(p), 0);
      assert.ok(socket.bytesWritten < total / 4 && socket.bytesRead < total / 4, `compressed on the wire both ways (${socket.bytesWritten}/${socket.bytesRead} of ${total})`);
    });
  }
});

/** A ws endpoint sends each message as `parts` compressed fragments. */
function sendFragmented(ws: WsClient, data: Buffer, binary: boolean, parts: number): void {
  const size = Math.ceil(data.length / parts);
  for (let i = 0; i < parts; i++) {
    ws.send(data.subarray(i * size, (i + 1) * size), { binary, compress: true, fin: i === parts - 1 });
  }
}

void describe('fragmented compressed messages', () => {
  const text = Buffer.from(multiByteText(30_000));
  const bin = Buffer.concat([randomBytes(1000), Buffer.alloc(50_000, 'z'), randomBytes(1000)]);

  async function check(t: TestContext, serverSide: 'parley' | 'ws'): Promise<void> {
    const received: Message[] = [];
    const fromWs = serverSide === 'parley';
    if (fromWs) {
      // ws client sends fragmented compressed messages to a Parley server, which echoes them.
      const s = await startParley(t, { perMessageDeflate: { threshold: 0 } }, true);
      const client = new WsClient(s.url, { perMessageDeflate: { threshold: 0 } });
      terminateAfter(t, client);
      await waitEvent(client, 'open');
      const replies = collectEvents<Message>(client, 'message', 3);
      sendFragmented(client, text, false, 7);
      client.ping();
      sendFragmented(client, bin, true, 3);
      sendFragmented(client, Buffer.from('tail'), false, 2);
      received.push(...(await replies));
    } else {
      // A ws server sends fragmented compressed messages to a Parley client.
      const s = await startWs(t, { perMessageDeflate: { threshold: 0 } });
      const connection = waitEvent<[WsSocket]>(s.server, 'connection');
      const client = new WebSocket(s.url, { perMessageDeflate: { threshold: 0 } });
      terminateAfter(t, client);
      const [peer] = await connection;
      await waitEvent(client, 'open').catch(() => undefined);
      const replies = collectEvents<Message>(client, 'message', 3);
      sendFragmented(peer, text, false, 7);
      sendFragmented(peer, bin, true, 3);
      sendFragmented(peer, Buffer.from('tail'), false, 2);
      received.push(...(await replies));
    }
    assert.deepEqual(received.map(([, b]) => b), [false, true, false]);
    assert.ok(toBuffer(received[0]![0]).equals(text), 'text');
    assert.ok(toBuffer(received[1]![0]).equals(bin), 'binary');
    assert.equal(toBuffer(received[2]![0]).toString(), 'tail');
  }

  void test('from a ws client to a Parley server (and echoed back)', (t) => check(t, 'parley'));
  void test('from a ws server to a Parley client', (t) => check(t, 'ws'));

  void test('from a Parley client, fragmented with fin: false, to a ws server', async (t) => {
    const s = await startWs(t, { perMessageDeflate: { threshold: 0 } });
    const connection = waitEvent<[WsSocket]>(s.server, 'connection');
    const client = new WebSocket(s.url, { perMessageDeflate: { threshold: 0 } });
    terminateAfter(t, client);
    const [peer] = await connection;
    const got = collectEvents<Message>(peer, 'message', 2);
    await waitEvent(client, 'open').catch(() => undefined);
    client.send('Hel', { fin: false });
    client.ping('between');
    client.send('lo, ', { fin: false });
    client.send('world', { fin: true });
    client.send(bin, { fin: false });
    client.send(Buffer.alloc(0), { fin: true });
    const [first, second] = await got;
    assert.deepEqual([toBuffer(first![0]).toString(), first![1]], ['Hello, world', false]);
    assert.ok(toBuffer(second![0]).equals(bin) && second![1]);
  });

  void test('send(data, { compress: false }) and messages under threshold go uncompressed, and still interleave correctly', async (t) => {
    const s = await startParley(t, { perMessageDeflate: { threshold: 100 } }, true);
    const client = new WsClient(s.url, { perMessageDeflate: { threshold: 0 } });
    terminateAfter(t, client);
    await waitEvent(client, 'open');
    // Watch RSV1 on the frames the server sends.
    const frames: number[] = [];
    let wire = Buffer.alloc(0);
    const socket = (client as unknown as { _socket: { on(e: 'data', l: (b: Buffer) => void): void } })._socket;
    socket.on('data', (b: Buffer) => {
      wire = Buffer.concat([wire, b]);
      for (let f = parseFrame(wire, 0); f !== undefined; f = parseFrame(wire, 0)) {
        frames.push(f.frame.rsv);
        wire = wire.subarray(f.size);
      }
    });
    const conns = [...(s.server.clients ?? [])];
    assert.equal(conns.length, 1);
    const server = conns[0]!;
    const replies = collectEvents<Message>(client, 'message', 3);
    server.send('x'.repeat(1000));
    server.send('x'.repeat(1000), { compress: false });
    server.send('short');
    await replies;
    assert.deepEqual(frames, [4, 0, 0], 'RSV1 only on the first');
  });
});

void describe('prepared messages (broadcast, publish) to ws clients with and without permessage-deflate', () => {
  /** A ws client that records the RSV1 bit and wire size of every frame the server sends. */
  async function watchedClient(t: TestContext, url: string, deflate: WsDeflateOptions | false): Promise<{ client: WsClient; rsv: number[]; wireBytes: () => number }> {
    const client = new WsClient(url, { perMessageDeflate: deflate });
    terminateAfter(t, client);
    await waitEvent(client, 'open');
    const rsv: number[] = [];
    let wire = Buffer.alloc(0);
    let bytes = 0;
    const socket = (client as unknown as { _socket: { on(e: 'data', l: (b: Buffer) => void): void } })._socket;
    socket.on('data', (b: Buffer) => {
      bytes += b.length;
      wire = Buffer.concat([wire, b]);
      for (let f = parseFrame(wire, 0); f !== undefined; f = parseFrame(wire, 0)) {
        rsv.push(f.frame.rsv);
        wire = wire.subarray(f.size);
      }
    });
    return { client, rsv, wireBytes: () => bytes };
  }

  void test('one prepared message is compressed for deflate clients (each window its own) and plain for the others; all read it back', async (t) => {
    const s = await startParley(t, { perMessageDeflate: { threshold: 100 } });
    const text = JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ item: i, price: 100 + i, bidder: `user-${i % 7}` })));
    const a = await watchedClient(t, s.url, { threshold: 0 });
    const b = await watchedClient(t, s.url, { threshold: 0, serverMaxWindowBits: 10 });
    const plain = await watchedClient(t, s.url, false);
    const before = [a, b, plain].map((c) => c.wireBytes());
    const got = [a, b, plain].map((c) => collectEvents<Message>(c.client, 'message', 2));
    const prepared = prepareMessage(text);
    s.server.broadcast(prepared);
    s.server.broadcast(prepareMessage('tiny'));
    const results = await Promise.all(got);
    for (const [first, second] of results) {
      assert.equal(toBuffer(first![0]).toString(), text);
      assert.equal(first![1], false);
      assert.equal(toBuffer(second![0]).toString(), 'tiny');
    }
    assert.deepEqual(a.rsv, [4, 0], 'compressed above the threshold only');
    assert.deepEqual(b.rsv, [4, 0]);
    assert.deepEqual(plain.rsv, [0, 0]);
    const sent = [a, b, plain].map((c, i) => c.wireBytes() - before[i]!);
    assert.ok(sent[0]! < text.length / 3 && sent[1]! < text.length / 3, `compressed on the wire: ${sent.join(', ')} bytes for ${text.length}`);
    assert.ok(sent[2]! > text.length, 'plain client gets the text as it is');
  });

  void test('a prepared message sent during a fragmented send waits for its last fragment (RFC 6455 §5.4)', async (t) => {
    for (const deflate of [false, true]) {
      const s = await startParley(t, { perMessageDeflate: deflate ? { threshold: 0 } : false });
      const connection = waitEvent<[WebSocket]>(s.server, 'connection');
      const { client } = await watchedClient(t, s.url, deflate ? { threshold: 0 } : false);
      const [server] = await connection;
      const got = collectEvents<Message>(client, 'message', 4);
      const errors: Error[] = [];
      client.on('error', (e) => errors.push(e));
      server.send('first ', { fin: false });
      server.send(prepareMessage('prepared one'));
      server.send('and last', { fin: false });
      server.send(prepareMessage(Buffer.from([1, 2, 3])));
      server.send('', { fin: true });
      server.send('after');
      const messages = (await got).map(([d, binary]) => [binary ? toBuffer(d).toString('hex') : toBuffer(d).toString(), binary]);
      assert.deepEqual(messages, [
        ['first and last', false],
        ['prepared one', false],
        ['010203', true],
        ['after', false],
      ], `deflate ${String(deflate)}`);
      assert.deepEqual(errors, []);
    }
  });
});
