/**
 * Interop: the Parley server with Node's own WebSocket client (undici): `globalThis.WebSocket`
 * on Node 22 and later, the `undici` package on Node 20 where the global is still behind a flag.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { CloseEvent, MessageEvent, WebSocket as UndiciSocket } from 'undici';
import type { WebSocket, WebSocketServer } from '../../src/index.js';
import { collectDomEvents, collectEvents, multiByteText, sha256, startParley, toBuffer, waitDomEvent, waitEvent, type Started } from './helpers.js';

type NodeWebSocketClass = typeof import('undici').WebSocket;
const major = Number(process.versions.node.split('.')[0]);
const NodeWebSocket: NodeWebSocketClass = major >= 22
  ? (globalThis as unknown as { WebSocket: NodeWebSocketClass }).WebSocket
  : (await import('undici')).WebSocket;

type Message = [Buffer, boolean];
type Close = [number, Buffer];

/** Connects Node's client; resolves with it and the server's side, both open. */
async function connect(t: TestContext, s: Started<WebSocketServer>, protocols: string[] = []): Promise<{ client: UndiciSocket; peer: WebSocket }> {
  const connection = waitEvent<[WebSocket, IncomingMessage]>(s.server, 'connection');
  const client = new NodeWebSocket(s.url, protocols);
  t.after(() => { if (client.readyState < 2) client.close(); });
  await waitDomEvent(client, 'open');
  const [peer] = await connection;
  return { client, peer };
}

/** The data of the next `count` message events. */
function nextMessages(client: UndiciSocket, count: number): Promise<unknown[]> {
  const data = collectDomEvents<MessageEvent>(client, 'message', count).then((events) => events.map((e) => e.data as unknown));
  data.catch(() => undefined); // a deadline after a failed test is not an unhandled rejection
  return data;
}

void describe(`Parley server ↔ Node's WebSocket client (Node ${process.versions.node}, ${major >= 22 ? 'global' : 'undici package'})`, () => {
  void test('text, including multi-byte UTF-8, round-trips as strings', async (t) => {
    const s = await startParley(t, {}, true);
    const { client, peer } = await connect(t, s);
    const texts = ['', 'hello', 'héllo wörld — 日本語 🎉 𝄞', multiByteText(70_000)];
    const received = collectEvents<Message>(peer, 'message', texts.length);
    const replies = nextMessages(client, texts.length);
    for (const text of texts) client.send(text);
    assert.deepEqual((await received).map(([d, b]) => [d.toString('utf8'), b]), texts.map((x) => [x, false]));
    assert.deepEqual(await replies, texts);
  });

  void test('binary with binaryType arraybuffer round-trips as ArrayBuffer', async (t) => {
    const s = await startParley(t, {}, true);
    const { client, peer } = await connect(t, s);
    client.binaryType = 'arraybuffer';
    const payloads = [0, 1, 126, 65_536].map((n) => randomBytes(n));
    const received = collectEvents<Message>(peer, 'message', payloads.length);
    const replies = nextMessages(client, payloads.length);
    for (const p of payloads) client.send(new Uint8Array(p));
    for (const [i, [data, isBinary]] of (await received).entries()) {
      assert.equal(isBinary, true);
      assert.ok(data.equals(payloads[i]!), `server side, payload ${i}`);
    }
    for (const [i, data] of (await replies).entries()) {
      assert.ok(data instanceof ArrayBuffer, `reply ${i} is an ArrayBuffer`);
      assert.ok(Buffer.from(data).equals(payloads[i]!), `reply ${i}`);
    }
  });

  void test('a 16 MiB binary message is echoed intact', async (t) => {
    const s = await startParley(t, {}, true);
    const { client } = await connect(t, s);
    client.binaryType = 'arraybuffer';
    const big = randomBytes(16 * 1024 * 1024);
    const reply = nextMessages(client, 1);
    client.send(big);
    const [data] = await reply;
    assert.ok(data instanceof ArrayBuffer);
    assert.equal(data.byteLength, big.length);
    assert.equal(sha256(data), sha256(big));
  });

  void test('subprotocol negotiation and server pings with a payload', async (t) => {
    const s = await startParley(t, { handleProtocols: (set) => (set.has('v2') ? 'v2' : false) });
    const { client, peer } = await connect(t, s, ['v1', 'v2']);
    assert.equal(client.protocol, 'v2');
    assert.equal(peer.protocol, 'v2');
    const pong = waitEvent<[Buffer]>(peer, 'pong');
    peer.ping('ping ✓');
    assert.equal((await pong)[0].toString(), 'ping ✓');
  });

  void test('the client closes with a code and reason: the server sees both; the close is clean', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitDomEvent<CloseEvent>(client, 'close');
    client.close(4000, 'bye ✓');
    assert.deepEqual((await atServer).map(String), ['4000', 'bye ✓']);
    const event = await atClient;
    assert.deepEqual([event.code, event.wasClean], [4000, true]);
  });

  void test('the server closes with a code and reason: the CloseEvent carries them, wasClean true', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const atServer = waitEvent<Close>(peer, 'close');
    const atClient = waitDomEvent<CloseEvent>(client, 'close');
    peer.close(4001, 'server says bye ✓');
    const event = await atClient;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4001, 'server says bye ✓', true]);
    assert.equal((await atServer)[0], 4001);
  });

  void test('the server closes with no code: 1005; terminate(): 1006 and wasClean false', async (t) => {
    const s = await startParley(t);
    const a = await connect(t, s);
    const aClosed = waitDomEvent<CloseEvent>(a.client, 'close');
    a.peer.close();
    const e1 = await aClosed;
    assert.deepEqual([e1.code, e1.reason, e1.wasClean], [1005, '', true]);
    const b = await connect(t, s);
    const bClosed = waitDomEvent<CloseEvent>(b.client, 'close');
    b.peer.terminate();
    const e2 = await bClosed;
    assert.deepEqual([e2.code, e2.wasClean], [1006, false]);
  });

  void test('messages sent by the server as it closes arrive before the CloseEvent', async (t) => {
    const s = await startParley(t);
    const { client, peer } = await connect(t, s);
    const replies = nextMessages(client, 2);
    const closed = waitDomEvent<CloseEvent>(client, 'close');
    peer.send('last words');
    peer.send(Buffer.from([7, 7, 7]));
    peer.close(1000);
    const [text, blob] = await replies;
    assert.equal(text, 'last words');
    assert.ok(blob instanceof Blob, 'binaryType defaults to blob');
    assert.ok(toBuffer(await blob.arrayBuffer()).equals(Buffer.from([7, 7, 7])));
    assert.equal((await closed).code, 1000);
  });
});
