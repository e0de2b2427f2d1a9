/**
 * Bad-input guide, "Compression (RFC 7692)", §16–§18, plus RSV1 misuse: hostile raw peers against
 * a Parley server with permessage-deflate, hostile raw servers against a Parley client, and many
 * connections compressing at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as zlib from 'node:zlib';
import { WebSocket, type ClientOptions, type RawData } from '../../src/index.js';
import { deflateStats, drainDeflatePool } from '../../src/node/zlib-pool.js';
import { acceptFor, clientFrame, frame, OP, RawServer, type RawPeer } from './raw-peer.js';
import { expectClose, sleep, textOf, withServer, type Harness } from './server-harness.js';

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;
const DEFLATE = { perMessageDeflate: true } as const;

/** A DEFLATE stream as permessage-deflate sends it: sync-flushed, without the 00 00 ff ff tail. */
function deflate(data: Buffer | string): Buffer {
  const d = zlib.deflateRawSync(Buffer.from(data), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return d.subarray(0, d.length - 4);
}

/** Inflates a payload received from Parley (tail appended). */
function inflate(payload: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** A raw peer that offers `extensions` and completes the handshake; returns the accepted extensions header. */
async function offer(h: Harness, extensions: string): Promise<{ peer: RawPeer; accepted: string | undefined }> {
  const peer = await h.peer();
  const head = await peer.handshake({ headers: [['Sec-WebSocket-Extensions', extensions]] });
  return { peer, accepted: head.headers.get('sec-websocket-extensions') };
}

void test('RSV1 on a control frame, on a continuation, or on data before any negotiation → 1002', T, async () => {
  await withServer(DEFLATE, async (h) => {
    for (const op of [OP.PING, OP.PONG, OP.CLOSE]) {
      const { peer, accepted } = await offer(h, 'permessage-deflate');
      assert.equal(accepted, 'permessage-deflate');
      await peer.write(clientFrame({ opcode: op, rsv: 4, payload: op === OP.CLOSE ? [0x03, 0xe8] : 'EVIL' }));
      await expectClose(peer, 1002, `RSV1 on opcode ${op} with permessage-deflate negotiated`);
    }
    const { peer } = await offer(h, 'permessage-deflate');
    const first = clientFrame({ opcode: OP.TEXT, rsv: 4, fin: false, payload: deflate('EVIL-').subarray(0, 3) });
    await peer.write(Buffer.concat([first, clientFrame({ opcode: OP.CONT, rsv: 4, payload: deflate('x') })]));
    await expectClose(peer, 1002, 'RSV1 on a continuation frame (RFC 7692 §6.1)');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
  // The server does not offer compression at all: RSV1 is a protocol error.
  await withServer({}, async (h) => {
    const { peer, accepted } = await offer(h, 'permessage-deflate');
    assert.equal(accepted, undefined, 'perMessageDeflate is off by default');
    await peer.write(clientFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate('EVIL-compressed') }));
    await expectClose(peer, 1002, 'RSV1 without the extension');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§17 invalid or duplicated parameters in the offer are declined cleanly: the connection opens uncompressed', T, async () => {
  await withServer(DEFLATE, async (h) => {
    const bad = [
      'permessage-deflate; client_max_window_bits=7',
      'permessage-deflate; client_max_window_bits=16',
      'permessage-deflate; client_max_window_bits=abc',
      'permessage-deflate; client_max_window_bits; client_max_window_bits',
      'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; server_no_context_takeover=yes',
      'permessage-deflate; x_unknown=1',
    ];
    for (const extensions of bad) {
      const { peer, accepted } = await offer(h, extensions);
      assert.equal(accepted, undefined, `${extensions}: declined`);
      await peer.write(clientFrame({ opcode: OP.TEXT, payload: 'plain' }));
      const echo = await peer.readFrame();
      assert.deepEqual([echo.opcode, echo.rsv, echo.payload.toString()], [OP.TEXT, 0, 'plain'], `${extensions}: uncompressed echo`);
      // And compressed frames are refused on this connection.
      await peer.write(clientFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate('EVIL') }));
      await expectClose(peer, 1002, `${extensions}: RSV1 after a declined offer`);
    }
    // A bad offer followed by a good one: the good one is taken (RFC 7692 §7.1).
    const { peer, accepted } = await offer(h, 'permessage-deflate; client_max_window_bits=7, permessage-deflate; server_no_context_takeover');
    assert.equal(accepted, 'permessage-deflate; server_no_context_takeover');
    await peer.write(clientFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate('x'.repeat(5000)) }));
    const echo = await peer.readFrame();
    assert.equal(echo.rsv, 4, 'compressed echo');
    assert.equal(inflate(echo.payload).toString(), 'x'.repeat(5000));
    assert.deepEqual(h.messages, ['plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'x'.repeat(5000)]);
    await h.checkHealthy();
  }, { client: DEFLATE });
});

void test('§16 a compressed bomb (100 KiB → 100 MiB) with maxPayload 1 MiB → 1009, nothing delivered, server healthy', T, async () => {
  const bomb = deflate(Buffer.alloc(100 * MiB));
  await withServer({ ...DEFLATE, maxPayload: MiB }, async (h) => {
    const before = process.memoryUsage().rss;
    const { peer } = await offer(h, 'permessage-deflate');
    await peer.write(clientFrame({ opcode: OP.BINARY, rsv: 4, payload: bomb }));
    await expectClose(peer, 1009, 'bomb');
    assert.ok((process.memoryUsage().rss - before) / MiB < 60, 'memory stayed bounded');
    assert.deepEqual(h.messages, []);
    assert.equal((h.errors.at(-1) as { code?: string } | undefined)?.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    // Exactly at the limit is fine.
    const { peer: p2 } = await offer(h, 'permessage-deflate');
    await p2.write(clientFrame({ opcode: OP.BINARY, rsv: 4, payload: deflate(Buffer.alloc(MiB, 'a')) }));
    const echo = await p2.readFrame(5000);
    assert.equal(inflate(echo.payload).length, MiB);
    // Incompressible data at the limit is a little larger on the wire than inflated: still accepted.
    const random = randomBytes(MiB);
    const stored = deflate(random);
    assert.ok(stored.length > MiB);
    const { peer: p3 } = await offer(h, 'permessage-deflate; client_no_context_takeover');
    await p3.write(clientFrame({ opcode: OP.BINARY, rsv: 4, payload: stored }));
    const echo3 = await p3.readFrame(5000);
    assert.ok(inflate(echo3.payload).equals(random));
    // One byte more than the limit once inflated → 1009.
    await p3.write(clientFrame({ opcode: OP.BINARY, rsv: 4, payload: deflate(Buffer.concat([random, Buffer.of(1)])) }));
    await expectClose(p3, 1009, 'incompressible, one byte over');
    await h.checkHealthy();
  }, { client: DEFLATE });
});

void test('§17 corrupt deflate data → 1007; invalid UTF-8 inside compressed text → 1007', T, async () => {
  await withServer(DEFLATE, async (h) => {
    const cases: Array<[string, Buffer]> = [
      ['reserved block type', clientFrame({ opcode: OP.TEXT, rsv: 4, payload: [0xff, 0xff, 0xff] })],
      ['stored block LEN/NLEN mismatch', clientFrame({ opcode: OP.BINARY, rsv: 4, payload: [0x00, 0x05, 0x00, 0x05, 0x00] })],
      ['invalid UTF-8 once inflated', clientFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate(Buffer.from([0x68, 0x69, 0xc0, 0xaf])) })],
    ];
    for (const [what, bytes] of cases) {
      const { peer } = await offer(h, 'permessage-deflate');
      await peer.write(bytes);
      await expectClose(peer, 1007, what);
    }
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  }, { client: DEFLATE });
});

void test('compressed messages from a raw peer keep their order with uncompressed ones and control frames', T, async () => {
  await withServer(DEFLATE, async (h) => {
    const { peer } = await offer(h, 'permessage-deflate; client_no_context_takeover');
    const big = 'y'.repeat(200_000);
    await peer.write(Buffer.concat([
      clientFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate(big) }),
      clientFrame({ opcode: OP.TEXT, payload: 'plain-1' }),
      clientFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate('small') }),
      clientFrame({ opcode: OP.PING, payload: 'p' }),
      clientFrame({ opcode: OP.TEXT, payload: 'plain-2' }),
      clientFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe8] }),
    ]));
    const c = await peer.readClose(5000);
    assert.equal(c.code, 1000);
    assert.deepEqual(h.messages, [big, 'plain-1', 'small', 'plain-2']);
    const texts = c.before.filter((f) => f.opcode === OP.TEXT).map((f) => (f.rsv === 4 ? inflate(f.payload) : f.payload).toString());
    assert.deepEqual(texts, [big, 'plain-1', 'small', 'plain-2'], 'echoes in order, the close frame after them');
  });
});

/** A hostile server: answers the handshake with `extensions`, then sends `bytes`. */
async function clientAgainst(extensions: string | undefined, bytes: Buffer, options: ClientOptions = DEFLATE): Promise<{ errors: Error[]; messages: string[]; closeCode: number; sentCode: number | undefined }> {
  const rs = await RawServer.listen();
  const client = new WebSocket(`ws://127.0.0.1:${rs.port}/`, options);
  try {
    const errors: Error[] = [];
    const messages: string[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('message', (d: RawData) => messages.push(textOf(d)));
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    const peer = await rs.nextPeer();
    const req = await peer.readHead();
    const key = req.headers.get('sec-websocket-key') ?? '';
    const ext = extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`;
    await peer.write(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n${ext}\r\n`, 'latin1'));
    let sentCode: number | undefined;
    if (bytes.length > 0) {
      await peer.write(bytes);
      sentCode = (await peer.readClose(3000)).code;
      peer.socket.end();
    }
    const closeCode = await Promise.race([closed, sleep(4000).then(() => -1)]);
    return { errors, messages, closeCode, sentCode };
  } finally {
    client.terminate();
    await rs.close();
  }
}

void test('client: a response with invalid, duplicated or unrequested parameters fails the handshake (RFC 7692 §7)', T, async () => {
  const bad = [
    'permessage-deflate; client_max_window_bits=7',
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=abc',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; x_unknown',
    'x-webkit-deflate-frame',
    'permessage-deflate, permessage-deflate',
  ];
  for (const extensions of bad) {
    const out = await clientAgainst(extensions, Buffer.alloc(0));
    assert.equal(out.closeCode, 1006, `${extensions}: the connection failed`);
    // ws's messages, word for word (programs match on them).
    const expected = extensions.startsWith('x-') ? 'Server indicated an extension that was not requested' : 'Invalid Sec-WebSocket-Extensions header';
    assert.equal(out.errors[0]?.message, expected, extensions);
  }
  // client_max_window_bits in a response when the client did not offer it.
  const out = await clientAgainst('permessage-deflate; client_max_window_bits=10', Buffer.alloc(0), { perMessageDeflate: { clientMaxWindowBits: false } });
  assert.equal(out.closeCode, 1006);
  // Any extension when none was offered (perMessageDeflate off).
  const none = await clientAgainst('permessage-deflate', Buffer.alloc(0), { perMessageDeflate: false });
  assert.equal(none.closeCode, 1006);
});

void test('client: RSV1 when the server declined, corrupt data and a bomb from the server → 1002, 1007, 1009', T, async () => {
  const declined = await clientAgainst(undefined, frame({ opcode: OP.TEXT, rsv: 4, payload: deflate('EVIL') }));
  assert.equal(declined.sentCode, 1002);
  const corrupt = await clientAgainst('permessage-deflate', frame({ opcode: OP.TEXT, rsv: 4, payload: [0xff, 0xff, 0xff] }));
  assert.equal(corrupt.sentCode, 1007);
  assert.equal((corrupt.errors[0] as { code?: string } | undefined)?.code, 'ERR_WS_INFLATE_FAILED');
  const bomb = await clientAgainst('permessage-deflate', frame({ opcode: OP.BINARY, rsv: 4, payload: deflate(Buffer.alloc(20 * MiB)) }), { perMessageDeflate: true, maxPayload: MiB });
  assert.equal(bomb.sentCode, 1009);
  assert.deepEqual([...declined.messages, ...corrupt.messages, ...bomb.messages], []);
});

void test('§18 many connections compressing at once: zlib streams and memory stay flat', T, async () => {
  const N = 300;
  drainDeflatePool();
  await sleep(10);
  const baseStreams = deflateStats().streams;
  // No context takeover both ways: no connection holds a zlib stream between messages.
  const options = { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 } };
  await withServer(options, async (h) => {
    const clients: WebSocket[] = [];
    for (let i = 0; i < N; i++) {
      const ws = new WebSocket(h.url, { perMessageDeflate: { threshold: 0 } });
      ws.on('error', () => undefined);
      clients.push(ws);
    }
    await Promise.all(clients.map((ws) => once(ws, 'open')));
    assert.equal(deflateStats().streams, baseStreams, 'idle compressed connections hold no zlib memory');
    const message = JSON.stringify(Array.from({ length: 1500 }, (_, i) => ({ i, name: `item ${i}`, tags: ['a', 'b'] })));
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peakStreams = 0;
    let peakRunning = 0;
    let peakRss = rss0;
    const sampler = setInterval(() => {
      const s = deflateStats();
      peakStreams = Math.max(peakStreams, s.streams);
      peakRunning = Math.max(peakRunning, s.running);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 1);
    const echoes = clients.map((ws) => once(ws, 'message'));
    for (const ws of clients) ws.send(message);
    const got = await Promise.all(echoes);
    clearInterval(sampler);
    for (const [data] of got) assert.equal(textOf(data as RawData), message);
    assert.ok(peakRunning <= 10, `at most 10 zlib jobs at once (saw ${peakRunning})`);
    assert.ok(peakStreams - baseStreams <= 40, `${peakStreams - baseStreams} zlib streams for ${N * 2} compressing endpoints`);
    const grew = (peakRss - rss0) / MiB;
    assert.ok(grew < 120, `RSS grew ${grew.toFixed(1)} MiB for ${N} echoes of ${(message.length / 1024).toFixed(0)} KiB`);
    for (const ws of clients) ws.terminate();
  }, { noBystander: true });
});
