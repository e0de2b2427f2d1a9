/**
 * Interop: the Parley WebSocketServer with the `ws` package's client. Each test drives a real
 * TCP connection on 127.0.0.1 and checks what both ends observe.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { WebSocket as WsClient, type ClientOptions as WsClientOptions, type RawData } from 'ws';
import type { ServerOptions, WebSocket } from '../../src/index.js';
import {
  BOUNDARY_SIZES, collectEvents, multiByteText, sha256, startParley, terminateAfter, toBuffer, waitEvent,
  type Started,
} from './helpers.js';
import type { WebSocketServer } from '../../src/index.js';

type Message = [RawData, boolean];
type Close = [number, Buffer];

/** Connects a `ws` client; resolves with it and the server's side of the connection, both open. */
async function connect(t: TestContext, s: Started<WebSocketServer>, protocols?: string[], options?: WsClientOptions): Promise<{ client: WsClient; peer: WebSocket }> {
  const connection = waitEvent<[WebSocket, IncomingMessage]>(s.server, 'connection');
  const client = new WsClient(s.url, protocols, options);
  terminateAfter(t, client);
  await waitEvent(client, 'open');
  const [peer] = await connection;
  return { client, peer };
}

async function echoServer(t: TestContext, options: Omit<ServerOptions, 'port' | 'host'> = {}): Promise<Started<WebSocketServer>> {
  return startParley(t, options, true);
}

/** Sends each item and returns what came back, in order. */
async function roundTrip(client: WsClient, items: Array<string | Buffer | Uint8Array | ArrayBuffer>): Promise<Message[]> {
  const replies = collectEvents<Message>(client, 'message', items.length);
  for (const item of items) client.send(item);
  return replies;
}

void describe('Parley server ↔ ws client: messages', () => {
  void test('text, including multi-byte UTF-8, round-trips as text', async (t) => {
    const s = await echoServer(t);
    const { client, peer } = await connect(t, s);
    const texts = ['hello', 'héllo wörld — 日本語 🎉 𝄞', multiByteText(125), multiByteText(20_000), multiByteText(70_000)];
    const received = collectEvents<Message>(peer, 'message', texts.length);
    const replies = await roundTrip(client, texts);
    for (const [i, text] of texts.entries()) {
      const [data, isBinary] = (await received)[i]!;
      assert.equal(isBinary, false, `server side, text ${i}`);
      assert.equal(toBuffer(data).toString('utf8'), text, `server side, text ${i}`);
      assert.equal(replies[i]![1], false, `client side, text ${i}`);
      assert.equal(toBuffer(replies[i]![0]).toString('utf8'), text, `client side, text ${i}`);
    }
  });

  void test('binary at every frame-length boundary round-trips byte for byte, from Buffer, Uint8Array and ArrayBuffer', async (t) => {
    const s = await echoServer(t);
    const { client } = await connect(t, s);
    const payloads = BOUNDARY_SIZES.map((n) => randomBytes(n));
    const forms = payloads.flatMap((b) => [b, new Uint8Array(b), b.buffer.slice(b.byteOffset, b.byteOffset + b.length)]);
    const replies = await roundTrip(client, forms);
    for (const [i, [data, isBinary]] of replies.entries()) {
      const expected = payloads[Math.floor(i / 3)]!;
      assert.equal(isBinary, true, `reply ${i}`);
      assert.ok(toBuffer(data).equals(expected), `reply ${i}: ${expected.length} bytes`);
    }
  });

  void test('empty text and empty binary messages keep their type', async (t) => {
    const s = await echoServer(t);
    const { client, peer } = await connect(t, s);
    const received = collectEvents<Message>(peer, 'message', 2);
    const replies = await roundTrip(client, ['', Buffer.alloc(0)]);
    assert.deepEqual((await received).map(([d, b]) => [toBuffer(d).length, b]), [[0, false], [0, true]]);
    assert.deepEqual(replies.map(([d, b]) => [toBuffer(d).length, b]), [[0, false], [0, true]]);
  });

  void test('fragmented messages from ws are reassembled, even split inside a UTF-8 sequence and with a ping between fragments', async (t) => {
    const s = await echoServer(t);
    const { client, peer } = await connect(t, s);
    const received = collectEvents<Message>(peer, 'message', 3);
    const pinged = waitEvent<[Buffer]>(peer, 'ping');
    client.send('Hel', { fin: false });
    client.send('lo, ', { fin: false });
    client.send('world', { fin: true });
    const euro = Buffer.from('price: 5€', 'utf8'); // '€' is 3 bytes: split after its first byte
    client.send(euro.subarray(0, 8), { binary: false, fin: false });
    client.ping('between');
    client.send(euro.subarray(8), { binary: false, fin: true });
    const bin = randomBytes(3000);
    client.send(bin.subarray(0, 1), { fin: false });
    client.send(bin.subarray(1, 2000), { fin: false });
    client.send(bin.subarray(2000), { fin: true });
    const [m1, m2, m3] = await received;
    assert.deepEqual([toBuffer(m1![0]).toString(), m1![1]], ['Hello, world', false]);
    assert.deepEqual([toBuffer(m2![0]).toString(), m2![1]], ['price: 5€', false]);
    assert.ok(toBuffer(m3![0]).equals(bin));
    assert.equal(m3![1], true);
    assert.equal((await pinged)[0].toString(), 'between');
  });

  void test('fragmented messages from Parley are reassembled by ws', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const replies = collectEvents<Message>(client, 'message', 2);
    peer.send('frag', { fin: false });
    peer.send('mented ', { fin: false });
    peer.send('text ✓', { fin: true });
    const bin = randomBytes(40_000);
    peer.send(bin.subarray(0, 20_000), { binary: true, fin: false });
    peer.ping('mid-message');
    peer.send(bin.subarray(20_000), { binary: true, fin: true });
    const [m1, m2] = await replies;
    assert.deepEqual([toBuffer(m1![0]).toString(), m1![1]], ['fragmented text ✓', false]);
    assert.ok(toBuffer(m2![0]).equals(bin));
    assert.equal(m2![1], true);
  });

  void test('a 16 MiB binary message is echoed intact', async (t) => {
    const s = await echoServer(t);
    const { client } = await connect(t, s);
    const big = randomBytes(16 * 1024 * 1024);
    const [[data, isBinary]] = await roundTrip(client, [big]) as [Message];
    assert.equal(isBinary, true);
    assert.equal(toBuffer(data).length, big.length);
    assert.equal(sha256(toBuffer(data)), sha256(big));
  });

  void test('a 20 MiB message followed at once by a short one both reach a reading ws client, as from a ws server', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const replies = collectEvents<Message>(client, 'message', 2, 15_000);
    const closed = waitEvent<Close>(client, 'close', 15_000);
    const big = randomBytes(20 * 1024 * 1024);
    peer.send(big);
    peer.send('done');
    const outcome = await Promise.race([replies.then(() => 'both delivered'), closed.then(([code]) => `closed with ${code}`)]);
    assert.equal(outcome, 'both delivered');
    const [[data], [done]] = await replies as [Message, Message];
    assert.equal(sha256(toBuffer(data)), sha256(big));
    assert.equal(toBuffer(done).toString(), 'done');
  });

  void test('1,000 small messages arrive in order on both sides', async (t) => {
    const s = await echoServer(t);
    const { client, peer } = await connect(t, s);
    const items = Array.from({ length: 1000 }, (_, i) => `message #${i}`);
    const received = collectEvents<Message>(peer, 'message', items.length);
    const replies = await roundTrip(client, items);
    assert.deepEqual((await received).map(([d]) => toBuffer(d).toString()), items);
    assert.deepEqual(replies.map(([d]) => toBuffer(d).toString()), items);
  });
});

void describe('Parley server ↔ ws client: ping and pong', () => {
  void test('ws pings with a payload: the server sees it and pongs it back', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const serverPing = waitEvent<[Buffer]>(peer, 'ping');
    const clientPong = waitEvent<[Buffer]>(client, 'pong');
    client.ping(Buffer.from('are you there? ✓'));
    assert.equal((await serverPing)[0].toString(), 'are you there? ✓');
    assert.equal((await clientPong)[0].toString(), 'are you there? ✓');
  });

  void test('the server pings with a payload (up to 125 bytes): ws sees it and pongs it back', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const payload = randomBytes(125);
    const clientPing = waitEvent<[Buffer]>(client, 'ping');
    const serverPong = waitEvent<[Buffer]>(peer, 'pong');
    peer.ping(payload);
    assert.ok((await clientPing)[0].equals(payload));
    assert.ok((await serverPong)[0].equals(payload));
    assert.throws(() => peer.ping(Buffer.alloc(126)), RangeError);
  });

  void test('unsolicited pongs are delivered in both directions', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<[Buffer]>(peer, 'pong');
    const atClient = waitEvent<[Buffer]>(client, 'pong');
    client.pong('from ws');
    peer.pong('from parley');
    assert.equal((await atServer)[0].toString(), 'from ws');
    assert.equal((await atClient)[0].toString(), 'from parley');
  });
});

void describe('Parley server ↔ ws client: subprotocols', () => {
  void test('handleProtocols sees the offers and its choice reaches both ends', async (t) => {
    let offered: string[] = [];
    const s = await startParley(t, {
      handleProtocols: (protocols, req) => {
        offered = [...protocols];
        assert.equal(req.headers['sec-websocket-protocol'], 'chat.v1,chat.v2');
        return protocols.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    const { client, peer } = await connect(t, s, ['chat.v1', 'chat.v2']);
    assert.deepEqual(offered, ['chat.v1', 'chat.v2']);
    assert.equal(client.protocol, 'chat.v2');
    assert.equal(peer.protocol, 'chat.v2');
  });

  void test('without handleProtocols the first offer is chosen; with no offer there is none', async (t) => {
    const s = await startParley(t);
    const a = await connect(t, s, ['first', 'second']);
    assert.equal(a.client.protocol, 'first');
    assert.equal(a.peer.protocol, 'first');
    const b = await connect(t, s);
    assert.equal(b.client.protocol, '');
    assert.equal(b.peer.protocol, '');
  });

  for (const [name, choice, message] of [
    ['handleProtocols returning false: ws refuses a missing subprotocol', false, 'Server sent no subprotocol'],
    ['handleProtocols choosing one that was not offered: ws refuses it', 'other', 'Server sent an invalid subprotocol'],
  ] as const) {
    void test(name, async (t) => {
      const s = await startParley(t, { handleProtocols: () => choice });
      const client = new WsClient(s.url, ['mine']);
      terminateAfter(t, client);
      const error = waitEvent<[Error]>(client, 'error');
      const closed = waitEvent<Close>(client, 'close');
      assert.equal((await error)[0].message, message);
      assert.equal((await closed)[0], 1006);
    });
  }

  for (const header of ['bad protocol', 'dup,dup', ',']) {
    void test(`a malformed Sec-WebSocket-Protocol header (${JSON.stringify(header)}) is refused with 400`, async (t) => {
      const s = await startParley(t);
      const client = new WsClient(s.url, { headers: { 'Sec-WebSocket-Protocol': header } });
      terminateAfter(t, client);
      const response = waitEvent<[ClientRequest, IncomingMessage]>(client, 'unexpected-response');
      const [req, res] = await response;
      assert.equal(res.statusCode, 400);
      req.destroy();
      res.resume();
    });
  }

  void test('verifyClient refusing with 403 reaches ws as an unexpected response', async (t) => {
    const s = await startParley(t, { verifyClient: (_info, cb) => cb(false, 403, 'Forbidden') });
    const client = new WsClient(s.url);
    terminateAfter(t, client);
    const error = waitEvent<[Error]>(client, 'error');
    const closed = waitEvent<Close>(client, 'close');
    assert.equal((await error)[0].message, 'Unexpected server response: 403');
    assert.equal((await closed)[0], 1006);
  });
});

void describe('Parley server ↔ ws client: closing', () => {
  void test('the client closes with a code and reason: the server sees them, the client sees the echoed code', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    client.close(4000, 'bye ✓');
    const [serverCode, serverReason] = await atServer;
    const [clientCode] = await atClient;
    assert.deepEqual([serverCode, serverReason.toString()], [4000, 'bye ✓']);
    assert.equal(clientCode, 4000);
    assert.equal(peer.readyState, 3);
    assert.equal(client.readyState, 3);
  });

  void test('the echoed close frame carries the reason back, as a ws server does', async (t) => {
    const s = await startParley(t);
    const { client } = await connect(t, s);
    const atClient = waitEvent<Close>(client, 'close');
    client.close(4000, 'bye');
    const [code, reason] = await atClient;
    assert.deepEqual([code, reason.toString()], [4000, 'bye']);
  });

  void test('the server closes with a code and reason: ws sees them', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    peer.close(4321, 'server says bye ✓');
    assert.equal(peer.readyState, 2);
    const [clientCode, clientReason] = await atClient;
    assert.deepEqual([clientCode, clientReason.toString()], [4321, 'server says bye ✓']);
    assert.equal((await atServer)[0], 4321);
  });

  void test('the server closes with no code: both ends report 1005', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    peer.close();
    assert.deepEqual((await atClient).map(String), ['1005', '']);
    assert.deepEqual((await atServer).map(String), ['1005', '']);
  });

  void test('the client closes with no code: both ends report 1005', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    client.close();
    assert.deepEqual((await atServer).map(String), ['1005', '']);
    assert.deepEqual((await atClient).map(String), ['1005', '']);
  });

  void test('server terminate(): ws reports 1006', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    peer.terminate();
    assert.equal((await atClient)[0], 1006);
    assert.equal((await atServer)[0], 1006);
  });

  void test('client terminate(): the server reports 1006 and forgets the client', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    client.terminate();
    assert.equal((await atServer)[0], 1006);
    assert.equal(s.server.clients?.size, 0);
  });

  void test('a message over the server\'s maxPayload: ws gets close 1009, the server an error', async (t) => {
    const s = await startParley(t, { maxPayload: 1024 });
    const { client, peer } = await connect(t, s);
    const serverError = waitEvent<[Error & { code?: string }]>(peer, 'error');
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitEvent<Close>(client, 'close');
    client.send(Buffer.alloc(1024)); // at the limit: accepted
    client.send(Buffer.alloc(1025));
    assert.equal((await atClient)[0], 1009);
    assert.equal((await serverError)[0].code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.equal((await atServer)[0], 1006, 'as with a ws server: the echoed close frame is not read after the error');
  });

  void test('close reasons of the full 123 bytes, multi-byte, pass intact both ways', async (t) => {
    const s = await startParley(t);
    const reason = 'é'.repeat(61) + 'a'; // 123 bytes
    const a = await connect(t, s);
    const atServer = waitEvent<Close>(a.peer, 'close');
    a.client.close(4100, reason);
    assert.equal((await atServer)[1].toString(), reason);
    const b = await connect(t, s);
    const atClient = waitEvent<Close>(b.client, 'close');
    assert.throws(() => b.peer.close(4101, reason + 'a'), SyntaxError);
    b.peer.close(4101, reason);
    assert.deepEqual((await atClient).map(String), ['4101', reason]);
  });

  void test('invalid UTF-8 in a text message from ws: close 1007; over maxPayload across fragments: close 1009', async (t) => {
    const s = await startParley(t, { maxPayload: 1024 });
    const a = await connect(t, s);
    const closed1007 = waitEvent<Close>(a.client, 'close');
    a.client.send(Buffer.from([0x68, 0x69, 0xc3, 0x28]), { binary: false });
    assert.equal((await closed1007)[0], 1007);
    const b = await connect(t, s);
    const closed1009 = waitEvent<Close>(b.client, 'close');
    b.client.send(Buffer.alloc(600), { fin: false });
    b.client.send(Buffer.alloc(600), { fin: true });
    assert.equal((await closed1009)[0], 1009);
  });

  void test("sending after close: the callback gets ws's 'not open' error", async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atClient = waitEvent<Close>(client, 'close');
    const atServer = waitEvent<Close>(peer, 'close');
    peer.close(1000);
    await Promise.all([atClient, atServer]);
    const failed = new Promise<Error | null | undefined>((resolve) => peer.send('late', resolve));
    const error = await failed;
    assert.ok(error instanceof Error);
    assert.match(error.message, /not open: readyState 3 \(CLOSED\)/);
  });
});
