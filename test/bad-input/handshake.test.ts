/**
 * Bad-input guide, "Opening handshake (server side)", §1–§7: a raw TCP peer sends broken,
 * enormous, slow or pipelined upgrade requests to a Parley WebSocketServer in port mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { clientFrame, OP, type RawPeer, upgradeRequest, type HeaderLine, type HttpHead } from './raw-peer.js';
import { Harness, withServer } from './server-harness.js';

const T = { timeout: 20_000 };

/** Sends `request`, reads the HTTP answer and checks the server then closes the socket. */
async function refused(h: Harness, request: Buffer, what: string): Promise<HttpHead> {
  const peer = await h.peer();
  await peer.write(request);
  const head = await peer.readHead(2000);
  assert.notEqual(head.status, 101, `${what}: must not upgrade`);
  await peer.waitClosed(2000).catch(() => assert.fail(`${what}: answered ${head.startLine} but the socket stayed open`));
  return head;
}

/** The server closes within `budgetMs`, having sent nothing or a 4xx answer (never a 101). */
async function answeredOrDropped(peer: RawPeer, budgetMs: number, what: string): Promise<string> {
  await peer.waitClosed(budgetMs);
  const text = peer.receivedBytes.toString('latin1');
  if (text.length > 0) assert.match(text, /^HTTP\/1\.[01] 4\d\d /, `${what}: answer was ${JSON.stringify(text.slice(0, 60))}`);
  return text.slice(0, 12);
}

void test('§1 wrong method → 405; wrong Upgrade, bad Sec-WebSocket-Key → 400; socket closed', T, async () => {
  await withServer({}, async (h) => {
    const post = await refused(h, upgradeRequest({ method: 'POST' }), 'POST');
    assert.equal(post.status, 405, post.startLine);
    const cases: Array<[string, Buffer]> = [
      ['Upgrade: h2c', upgradeRequest({ headers: [['Upgrade', 'h2c']] })],
      ['key missing', upgradeRequest({ omit: ['sec-websocket-key'] })],
      ['key of 15 bytes', upgradeRequest({ key: Buffer.alloc(15, 7).toString('base64') })],
      ['key of 17 bytes', upgradeRequest({ key: Buffer.alloc(17, 7).toString('base64') })],
      ['key not base64', upgradeRequest({ key: '!!!!!!!!!!!!!!!!!!!!!!==' })],
    ];
    for (const [what, req] of cases) {
      const head = await refused(h, req, what);
      assert.equal(head.status, 400, `${what}: ${head.startLine}`);
    }
    assert.equal(h.connections.length, 0);
    await h.checkHealthy();
  });
});

void test('§1 missing Upgrade header, missing Connection upgrade token → 400, socket closed', T, async () => {
  await withServer({}, async (h) => {
    const cases: Array<[string, Buffer]> = [
      ['Upgrade missing', upgradeRequest({ omit: ['upgrade'] })],
      ['Connection: keep-alive', upgradeRequest({ headers: [['Connection', 'keep-alive']] })],
      ['Connection missing', upgradeRequest({ omit: ['connection'] })],
    ];
    for (const [what, req] of cases) {
      const head = await refused(h, req, what);
      assert.equal(head.status, 400, `${what}: ${head.startLine}`);
    }
    await h.checkHealthy();
  });
});

void test('§1 version 7 or missing → 400 with Sec-WebSocket-Version: 13, 8 (RFC 6455 §4.4, as ws)', T, async () => {
  await withServer({}, async (h) => {
    const v7 = await refused(h, upgradeRequest({ headers: [['Sec-WebSocket-Version', '7']] }), 'version 7');
    assert.equal(v7.status, 400);
    assert.equal(v7.headers.get('sec-websocket-version'), '13, 8');
    const none = await refused(h, upgradeRequest({ omit: ['sec-websocket-version'] }), 'version missing');
    assert.equal(none.status, 400, none.startLine);
    assert.equal(none.headers.get('sec-websocket-version'), '13, 8');
    assert.equal(h.connections.length, 0);
    await h.checkHealthy();
  });
});

void test('§2 5,000 header lines → 4xx (431/400) or dropped, fast', T, async () => {
  await withServer({ handshakeTimeout: 1000 }, async (h) => {
    const lines: HeaderLine[] = [];
    for (let i = 0; i < 5000; i++) lines.push([`X-H${i}`, 'v']);
    const peer = await h.peer();
    void peer.write(upgradeRequest({ headers: lines }));
    const status = await answeredOrDropped(peer, 2000, '5,000 lines');
    assert.equal(h.connections.length, 0, `upgraded (${status})`);
    await h.checkHealthy();
  });
});

void test('§2 one 100 KB header line → 4xx (431/400) or dropped, fast', T, async () => {
  await withServer({ handshakeTimeout: 1000 }, async (h) => {
    const peer = await h.peer();
    void peer.write(upgradeRequest({ headers: [['X-Big', 'a'.repeat(100 * 1024)]] }));
    await answeredOrDropped(peer, 2000, '100 KB line');
    assert.equal(h.connections.length, 0);
    await h.checkHealthy();
  });
});

void test('§2 headers trickled 1 byte every 50 ms → closed by the handshake deadline (handshakeTimeout 1000)', T, async () => {
  await withServer({ handshakeTimeout: 1000 }, async (h) => {
    const peer = await h.peer();
    const t0 = performance.now();
    const trickle = peer.writeBytewise(upgradeRequest({ headers: [['X-Pad', 'p'.repeat(100)]] }), 50);
    await answeredOrDropped(peer, 3000, 'trickle');
    const elapsed = performance.now() - t0;
    const sent = await trickle;
    assert.ok(elapsed < 3000, `closed after ${elapsed.toFixed(0)} ms`);
    assert.ok(sent < 100, `the server read ${sent} trickled bytes before cutting off`);
    assert.equal(h.connections.length, 0);
    await h.checkHealthy();
  });
});

/** Header values built to make a backtracking or quadratic parser slow. */
const SLOW: Array<[string, HeaderLine]> = [
  ['50,000 spaces inside a protocol', ['Sec-WebSocket-Protocol', `chat${' '.repeat(50_000)}x`]],
  ['50,000 spaces after a comma', ['Sec-WebSocket-Protocol', `chat,${' '.repeat(50_000)}superchat`]],
  ['20,000 commas as protocols', ['Sec-WebSocket-Protocol', ','.repeat(20_000)]],
  ['unclosed quote + 50,000 chars', ['Sec-WebSocket-Extensions', `permessage-deflate; x="${'a'.repeat(50_000)}`]],
  ['unclosed quote + 25,000 escapes', ['Sec-WebSocket-Extensions', `permessage-deflate; x="${'\\a'.repeat(25_000)}`]],
  ['20,000 commas as extensions', ['Sec-WebSocket-Extensions', ','.repeat(20_000)]],
  ['50,000 spaces between params', ['Sec-WebSocket-Extensions', `foo;${' '.repeat(50_000)}bar`]],
  ['10,000 parameters', ['Sec-WebSocket-Extensions', `foo${'; p=1'.repeat(10_000)}`]],
];

async function slowHeaders(h: Harness, allowed: readonly number[]): Promise<void> {
  for (const [what, line] of SLOW) {
    const peer = await h.peer();
    const t0 = performance.now();
    await peer.write(upgradeRequest({ headers: [line] }));
    const head = await peer.readHead(2000);
    const ms = performance.now() - t0;
    assert.ok(allowed.includes(head.status), `${what}: ${head.startLine}`);
    assert.ok(ms < 2000, `${what}: answered after ${ms.toFixed(0)} ms`);
    peer.destroy();
  }
  await h.checkHealthy();
}

void test('§3 slow Sec-WebSocket-Protocol / -Extensions values → answered in < 2 s with 101 or 400', T, async () => {
  // Port mode: Node's 16 KiB header limit may answer 431 before the value parsers run.
  await withServer({}, (h) => slowHeaders(h, [101, 400, 431]));
  // Attached to a server with a 1 MiB header limit, so Parley's own parsers see every value.
  await withServer({}, (h) => slowHeaders(h, [101, 400]), { attachMaxHeaderSize: 1 << 20 });
});

void test('§4 header names and extension params __proto__, constructor, hasOwnProperty → plain strings', T, async () => {
  await withServer({}, async (h) => {
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const weird: HeaderLine[] = [
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['hasOwnProperty', 'z'],
      ['Sec-WebSocket-Protocol', '__proto__, constructor, hasOwnProperty'],
      ['Sec-WebSocket-Extensions', '__proto__; constructor=1; hasOwnProperty="x", constructor; __proto__, toString'],
    ];
    const connection = h.nextConnection();
    const peer = await h.peer();
    const head = await peer.handshake({ headers: weird });
    assert.equal(head.headers.get('sec-websocket-protocol'), '__proto__');
    assert.equal(head.headers.get('sec-websocket-extensions'), undefined, 'no extension is accepted');
    const ws = await connection;
    assert.equal(ws.protocol, '__proto__');
    await peer.write(clientFrame({ opcode: OP.TEXT, payload: 'hasOwnProperty' }));
    const echo = await peer.readFrame();
    assert.equal(echo.payload.toString(), 'hasOwnProperty');
    // The same names where the Upgrade/Connection/Key headers are looked up: a clean 400, no throw.
    const bad = await refused(h, upgradeRequest({ omit: ['sec-websocket-key'], headers: [['__proto__', 'x'], ['constructor', 'y']] }), 'no key');
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys, 'Object.prototype was modified');
    await h.checkHealthy();
  });
});

void test('§5 Origin outside the allow-list → 403 before upgrade', T, async () => {
  const good = 'https://good.example';
  await withServer({ origins: [good] }, async (h) => {
    for (const origin of ['https://evil.example', 'https://good.example.evil.example', 'null', 'http://good.example']) {
      const head = await refused(h, upgradeRequest({ headers: [['Origin', origin]] }), `Origin ${origin}`);
      assert.equal(head.status, 403, `Origin ${origin}: ${head.startLine}`);
    }
    assert.equal(h.connections.length, 0);
    const peer = await h.peer();
    await peer.handshake({ headers: [['Origin', good]] });
    await h.checkHealthy();
  }, { client: { origin: good } });
});

void test('§6 200 sockets that connect and send nothing → all closed by the handshake deadline (1000 ms)', T, async () => {
  await withServer({ handshakeTimeout: 1000 }, async (h) => {
    const t0 = performance.now();
    const peers = await Promise.all(Array.from({ length: 200 }, () => h.peer()));
    await Promise.all(peers.map((p, i) => answeredOrDropped(p, 3500, `silent socket ${i}`)));
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 3500, `all closed after ${elapsed.toFixed(0)} ms`);
    await h.checkHealthy();
  });
});

void test('§6 half-open handshakes (request line and some headers, then silence) → closed by the deadline', T, async () => {
  await withServer({ handshakeTimeout: 1000 }, async (h) => {
    const partial = upgradeRequest().subarray(0, 40);
    const peers = await Promise.all(Array.from({ length: 50 }, () => h.peer()));
    await Promise.all(peers.map((p) => p.write(partial)));
    await Promise.all(peers.map((p, i) => answeredOrDropped(p, 3500, `half-open ${i}`)));
    await h.checkHealthy();
  });
});

void test('§7 two masked text frames in the same write as the upgrade request → both delivered, in order', T, async () => {
  await withServer({}, async (h) => {
    const peer = await h.peer();
    const frames = Buffer.concat([clientFrame({ opcode: OP.TEXT, payload: 'first' }), clientFrame({ opcode: OP.TEXT, payload: 'second' })]);
    await peer.handshake({}, frames);
    const a = await peer.readFrame();
    const b = await peer.readFrame();
    assert.deepEqual([a.payload.toString(), b.payload.toString()], ['first', 'second']);
    assert.deepEqual(h.messages, ['first', 'second']);
    await h.checkHealthy();
  });
});
