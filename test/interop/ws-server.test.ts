/**
 * Interop: the `ws` package's WebSocketServer with the Parley client, through the `ws`-style
 * EventEmitter API and through the WHATWG interface (addEventListener, on<event>, binaryType).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { WebSocket as WsSocket, WebSocketServer as WsServer, RawData } from 'ws';
import { WebSocket, type ClientOptions, type WsCloseEvent, type WsErrorEvent, type WsEvent, type WsMessageEvent } from '../../src/index.js';
import {
  BOUNDARY_SIZES, collectEvents, multiByteText, sha256, startWs, terminateAfter, toBuffer, waitDomEvent, waitEvent,
  type Started,
} from './helpers.js';

type Message = [RawData, boolean];
type Close = [number, Buffer];

/** Connects a Parley client; resolves with it and the `ws` server's side, both open. */
async function connect(t: TestContext, s: Started<WsServer>, protocols?: string[], options?: ClientOptions): Promise<{ client: WebSocket; peer: WsSocket }> {
  const connection = waitEvent<[WsSocket, IncomingMessage]>(s.server, 'connection');
  const client = new WebSocket(s.url, protocols ?? [], options);
  terminateAfter(t, client);
  await waitEvent(client, 'open');
  const [peer] = await connection;
  return { client, peer };
}

async function roundTrip(client: WebSocket, items: Array<string | Buffer | Uint8Array | ArrayBuffer | Blob>): Promise<Message[]> {
  const replies = collectEvents<Message>(client, 'message', items.length);
  for (const item of items) client.send(item);
  return replies;
}

void describe('ws server ↔ Parley client: messages', () => {
  void test('text, including multi-byte UTF-8, round-trips as text', async (t) => {
    const s = await startWs(t, {}, true);
    const { client, peer } = await connect(t, s);
    const texts = ['hello', 'héllo wörld — 日本語 🎉 𝄞', multiByteText(125), multiByteText(20_000), multiByteText(70_000)];
    const received = collectEvents<Message>(peer, 'message', texts.length);
    const replies = await roundTrip(client, texts);
    for (const [i, text] of texts.entries()) {
      const [data, isBinary] = (await received)[i]!;
      assert.deepEqual([toBuffer(data).toString('utf8'), isBinary], [text, false], `server side, text ${i}`);
      assert.deepEqual([toBuffer(replies[i]![0]).toString('utf8'), replies[i]![1]], [text, false], `client side, text ${i}`);
    }
  });

  void test('binary at every frame-length boundary round-trips, from Buffer, Uint8Array, ArrayBuffer and Blob', async (t) => {
    const s = await startWs(t, {}, true);
    const { client } = await connect(t, s);
    const payloads = BOUNDARY_SIZES.map((n) => randomBytes(n));
    const forms = payloads.flatMap((b) => [b, new Uint8Array(b), b.buffer.slice(b.byteOffset, b.byteOffset + b.length), new Blob([b])]);
    const replies = await roundTrip(client, forms);
    for (const [i, [data, isBinary]] of replies.entries()) {
      const expected = payloads[Math.floor(i / 4)]!;
      assert.equal(isBinary, true, `reply ${i}`);
      assert.ok(toBuffer(data).equals(expected), `reply ${i}: ${expected.length} bytes`);
    }
  });

  void test('empty text and empty binary messages keep their type', async (t) => {
    const s = await startWs(t, {}, true);
    const { client, peer } = await connect(t, s);
    const received = collectEvents<Message>(peer, 'message', 2);
    const replies = await roundTrip(client, ['', Buffer.alloc(0)]);
    assert.deepEqual((await received).map(([d, b]) => [toBuffer(d).length, b]), [[0, false], [0, true]]);
    assert.deepEqual(replies.map(([d, b]) => [toBuffer(d).length, b]), [[0, false], [0, true]]);
  });

  void test('fragmented messages from Parley are reassembled by ws, with a ping between fragments', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const received = collectEvents<Message>(peer, 'message', 2);
    const pinged = waitEvent<[Buffer]>(peer, 'ping');
    client.send('Hel', { fin: false });
    client.ping('between');
    client.send('lo ✓', { fin: true });
    const bin = randomBytes(100_000);
    client.send(bin.subarray(0, 70_000), { fin: false });
    client.send(bin.subarray(70_000), { fin: true });
    const [m1, m2] = await received;
    assert.deepEqual([toBuffer(m1![0]).toString(), m1![1]], ['Hello ✓', false]);
    assert.deepEqual([toBuffer(m2![0]).equals(bin), m2![1]], [true, true]);
    assert.equal((await pinged)[0].toString(), 'between');
  });

  void test('fragmented messages from ws are reassembled by Parley, even split inside a UTF-8 sequence', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const received = collectEvents<Message>(client, 'message', 2);
    const text = Buffer.from('😀 split', 'utf8');
    peer.send(text.subarray(0, 1), { binary: false, fin: false });
    peer.send(text.subarray(1, 3), { binary: false, fin: false });
    peer.send(text.subarray(3), { binary: false, fin: true });
    const bin = randomBytes(5000);
    peer.send(bin.subarray(0, 10), { fin: false });
    peer.send(bin.subarray(10), { fin: true });
    const [m1, m2] = await received;
    assert.deepEqual([toBuffer(m1![0]).toString(), m1![1]], ['😀 split', false]);
    assert.deepEqual([toBuffer(m2![0]).equals(bin), m2![1]], [true, true]);
  });

  void test('a 16 MiB binary message is echoed intact', async (t) => {
    const s = await startWs(t, {}, true);
    const { client } = await connect(t, s);
    const big = randomBytes(16 * 1024 * 1024);
    const [[data, isBinary]] = await roundTrip(client, [big]) as [Message];
    assert.equal(isBinary, true);
    assert.equal(sha256(toBuffer(data)), sha256(big));
  });

  void test('1,000 small messages arrive in order on both sides', async (t) => {
    const s = await startWs(t, {}, true);
    const { client, peer } = await connect(t, s);
    const items = Array.from({ length: 1000 }, (_, i) => `message #${i}`);
    const received = collectEvents<Message>(peer, 'message', items.length);
    const replies = await roundTrip(client, items);
    assert.deepEqual((await received).map(([d]) => toBuffer(d).toString()), items);
    assert.deepEqual(replies.map(([d]) => toBuffer(d).toString()), items);
  });
});

void describe('ws server ↔ Parley client: ping, pong, subprotocols', () => {
  void test('pings with payloads are answered in both directions; unsolicited pongs arrive', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const events = [waitEvent<[Buffer]>(peer, 'ping'), waitEvent<[Buffer]>(client, 'pong'), waitEvent<[Buffer]>(client, 'ping'), waitEvent<[Buffer]>(peer, 'pong')];
    client.ping('from parley ✓');
    const payload = randomBytes(125);
    peer.ping(payload);
    const [serverPing, clientPong, clientPing, serverPong] = await Promise.all(events);
    assert.equal(serverPing![0].toString(), 'from parley ✓');
    assert.equal(clientPong![0].toString(), 'from parley ✓');
    assert.ok(clientPing![0].equals(payload));
    assert.ok(serverPong![0].equals(payload));
    const unsolicited = waitEvent<[Buffer]>(peer, 'pong');
    client.pong('heartbeat');
    assert.equal((await unsolicited)[0].toString(), 'heartbeat');
    assert.throws(() => client.ping(Buffer.alloc(126)), RangeError);
  });

  void test('the subprotocol ws handleProtocols chooses reaches the client', async (t) => {
    const s = await startWs(t, { handleProtocols: (set) => (set.has('chat.v2') ? 'chat.v2' : false) });
    const { client, peer } = await connect(t, s, ['chat.v1', 'chat.v2']);
    assert.equal(client.protocol, 'chat.v2');
    assert.equal(peer.protocol, 'chat.v2');
  });

  void test('no subprotocol chosen: the client fails with ws\'s error, then close 1006 (as a ws client)', async (t) => {
    const s = await startWs(t, { handleProtocols: () => false });
    const client = new WebSocket(s.url, ['chat.v1']);
    terminateAfter(t, client);
    const error = waitEvent<[Error]>(client, 'error');
    const closed = waitEvent<Close>(client, 'close');
    assert.equal((await error)[0].message, 'Server sent no subprotocol');
    assert.equal((await closed)[0], 1006);
  });

  void test('a subprotocol that was not offered fails the handshake: error, then close 1006', async (t) => {
    const s = await startWs(t, { handleProtocols: () => 'other' });
    const client = new WebSocket(s.url, ['mine']);
    terminateAfter(t, client);
    const error = waitEvent<[Error]>(client, 'error');
    const closed = waitEvent<Close>(client, 'close');
    assert.match((await error)[0].message, /subprotocol/);
    assert.equal((await closed)[0], 1006);
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  void test('invalid or duplicated subprotocols are refused before connecting (SyntaxError, as ws)', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['bad protocol']), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['dup', 'dup']), SyntaxError);
  });
});

void describe('ws server ↔ Parley client: closing', () => {
  void test('the client closes with a code and reason: ws sees them and echoes them', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    client.close(4000, 'bye ✓');
    assert.equal(client.readyState, WebSocket.CLOSING);
    assert.deepEqual((await atServer).map(String), ['4000', 'bye ✓']);
    assert.deepEqual((await atClient).map(String), ['4000', 'bye ✓']);
  });

  void test('ws closes with a code and reason: the client sees them, ws the echoed code', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    peer.close(4321, 'server says bye ✓');
    assert.deepEqual((await atClient).map(String), ['4321', 'server says bye ✓']);
    assert.equal((await atServer)[0], 4321);
  });

  void test('ws closes with no code: both ends report 1005', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    peer.close();
    assert.deepEqual((await atClient).map(String), ['1005', '']);
    assert.deepEqual((await atServer).map(String), ['1005', '']);
  });

  void test('ws terminate(): the client reports 1006; client terminate(): ws reports 1006', async (t) => {
    const s = await startWs(t);
    const a = await connect(t, s);
    const aClosed = waitEvent<Close>(a.client, 'close');
    a.peer.terminate();
    assert.equal((await aClosed)[0], 1006);
    const b = await connect(t, s);
    const bClosed = waitEvent<Close>(b.peer, 'close');
    b.client.terminate();
    assert.equal((await bClosed)[0], 1006);
  });

  void test('a message over the client\'s maxPayload: ws gets close 1009', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s, [], { maxPayload: 1000 });
    const atServer = waitEvent<Close>(peer, 'close');
    const clientError = waitEvent<[Error & { code?: string }]>(client, 'error');
    peer.send(Buffer.alloc(1001));
    assert.equal((await atServer)[0], 1009);
    assert.equal((await clientError)[0].code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });
});

void describe('ws server ↔ Parley client: Blob sends keep their place (as ws ≥ 8.17)', () => {
  void test('send(blob) then close(): ws receives the message before the close frame', async (t) => {
    const s = await startWs(t);
    const { client, peer } = await connect(t, s);
    const seen: string[] = [];
    peer.on('message', (data, isBinary) => seen.push(`message:${toBuffer(data).length}:${isBinary}`));
    const atServer = waitEvent<Close>(peer, 'close');
    client.send(new Blob([Buffer.alloc(10, 1)]));
    client.close(1000, 'after the blob');
    const [code] = await atServer;
    seen.push(`close:${code}`);
    assert.deepEqual(seen, ['message:10:true', 'close:1000']);
  });

  void test('bufferedAmount counts Blobs sent after close by their size', async (t) => {
    const s = await startWs(t);
    const { client } = await connect(t, s);
    const closed = waitEvent<Close>(client, 'close');
    client.close();
    await closed;
    assert.equal(client.bufferedAmount, 0);
    client.send('xy');
    client.send(new Blob(['abcd']));
    assert.equal(client.bufferedAmount, 6);
  });
});

void describe('ws server ↔ Parley client: the WHATWG interface', () => {
  void test('addEventListener: open, message (string for text, Buffer by default), close with wasClean', async (t) => {
    const s = await startWs(t, {}, true);
    const client = new WebSocket(s.url);
    terminateAfter(t, client);
    const open = waitDomEvent<WsEvent>(client, 'open');
    assert.equal((await open).type, 'open');
    assert.equal((await open).target, client);
    const messages: unknown[] = [];
    const listener = (event: WsEvent): void => { messages.push((event as WsMessageEvent).data); };
    client.addEventListener('message', listener);
    client.addEventListener('message', listener); // a duplicate is ignored (DOM rule)
    const two = collectEvents(client, 'message', 2);
    client.send('text ✓');
    client.send(Buffer.from([1, 2, 3]));
    await two;
    assert.equal(messages.length, 2);
    assert.equal(messages[0], 'text ✓');
    assert.ok(Buffer.isBuffer(messages[1]) && messages[1].equals(Buffer.from([1, 2, 3])));
    client.removeEventListener('message', listener);
    const closed = waitDomEvent<WsCloseEvent>(client, 'close');
    client.close(1000, 'done');
    const event = await closed;
    assert.deepEqual([event.type, event.code, event.reason, event.wasClean], ['close', 1000, 'done', true]);
    assert.equal(messages.length, 2);
  });

  void test('binaryType arraybuffer gives an ArrayBuffer, blob gives a Blob', async (t) => {
    const s = await startWs(t, {}, true);
    const client = new WebSocket(s.url);
    terminateAfter(t, client);
    await waitDomEvent(client, 'open');
    const bytes = randomBytes(300);
    client.binaryType = 'arraybuffer';
    const first = waitDomEvent<WsMessageEvent>(client, 'message');
    client.send(bytes);
    const ab = (await first).data;
    assert.ok(ab instanceof ArrayBuffer, 'ArrayBuffer');
    assert.ok(Buffer.from(ab).equals(bytes));
    client.binaryType = 'blob';
    const second = waitDomEvent<WsMessageEvent>(client, 'message');
    client.send(bytes);
    const blob = (await second).data;
    assert.ok(blob instanceof Blob, 'Blob');
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(bytes));
    const third = waitDomEvent<WsMessageEvent>(client, 'message');
    client.send('still text');
    assert.equal((await third).data, 'still text');
  });

  void test('onopen/onmessage/onclose attributes, replaced and read back', async (t) => {
    const s = await startWs(t, {}, true);
    const client = new WebSocket(s.url);
    terminateAfter(t, client);
    const seen: string[] = [];
    const done = waitEvent(client, 'close');
    const first = (): void => { seen.push('replaced handler ran'); };
    client.onopen = first;
    assert.equal(client.onopen, first);
    client.onopen = (event) => {
      seen.push(`open:${event.type}`);
      client.send('hi');
    };
    client.onmessage = (event) => {
      seen.push(`message:${String((event as WsMessageEvent).data)}`);
      client.close(4001, 'attr');
    };
    client.onclose = (event) => {
      const e = event as WsCloseEvent;
      seen.push(`close:${e.code}:${e.reason}:${e.wasClean}`);
    };
    await done;
    assert.deepEqual(seen, ['open:open', 'message:hi', 'close:4001:attr:true']);
    client.onmessage = null;
    assert.equal(client.onmessage, null);
  });

  void test('terminated by the server: CloseEvent code 1006, wasClean false', async (t) => {
    const s = await startWs(t);
    const connection = waitEvent<[WsSocket]>(s.server, 'connection');
    const client = new WebSocket(s.url);
    terminateAfter(t, client);
    const closed = waitDomEvent<WsCloseEvent>(client, 'close');
    (await connection)[0].terminate();
    const event = await closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [1006, '', false]);
  });

  const forbidden = { verifyClient: (_info: unknown, cb: (ok: boolean, code?: number, message?: string) => void) => cb(false, 403, 'Forbidden') };

  void test('a 403 from verifyClient: onerror fires, then onclose with 1006', async (t) => {
    const s = await startWs(t, forbidden);
    const client = new WebSocket(s.url);
    terminateAfter(t, client);
    const order: string[] = [];
    client.onerror = (event) => { order.push(`error:${(event as WsErrorEvent).message}`); };
    const closed = waitDomEvent<WsCloseEvent>(client, 'close');
    client.addEventListener('close', () => order.push('close'));
    const event = await closed;
    assert.deepEqual([event.code, event.wasClean], [1006, false]);
    assert.equal(order.length, 2);
    assert.match(order[0]!, /^error:.*403/);
    assert.equal(order[1], 'close');
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  void test('a 403 with an unexpected-response listener: the response is handed over, no error', async (t) => {
    const s = await startWs(t, forbidden);
    const client = new WebSocket(s.url);
    terminateAfter(t, client);
    let errors = 0;
    client.on('error', () => { errors++; });
    const [req, res] = await waitEvent<[ClientRequest, IncomingMessage]>(client, 'unexpected-response');
    assert.equal(res.statusCode, 403);
    res.resume();
    req.destroy();
    assert.equal(errors, 0);
    assert.equal(client.readyState, WebSocket.CONNECTING);
  });
});
