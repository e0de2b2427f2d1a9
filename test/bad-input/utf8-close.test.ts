/**
 * Bad-input guide §13 (invalid UTF-8, fail fast) and §14 (broken close frames, data after close,
 * peers that never finish the close handshake), against a Parley server and a Parley client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { clientFrame, closePayload, frame, OP } from './raw-peer.js';
import { clientMeets, expectClose, hostile, withServer } from './server-harness.js';

const T = { timeout: 20_000 };

/** Byte sequences that are not UTF-8 (RFC 3629 §4), each after some valid text. */
const INVALID: Array<[string, number[]]> = [
  ['overlong 2-byte (C0 AF)', [0xc0, 0xaf]],
  ['overlong 3-byte (E0 80 AF)', [0xe0, 0x80, 0xaf]],
  ['overlong 4-byte (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]],
  ['surrogate U+D800 (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['surrogate U+DFFF (ED BF BF)', [0xed, 0xbf, 0xbf]],
  ['above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
  ['F5 lead byte', [0xf5, 0x80, 0x80, 0x80]],
  ['stray continuation byte', [0x80]],
];
/** Truncated sequences: invalid only because the message or reason ends there. */
const TRUNCATED: Array<[string, number[]]> = [
  ['truncated 3-byte (E2 82)', [0xe2, 0x82]],
  ['truncated 4-byte (F0 9F 98)', [0xf0, 0x9f, 0x98]],
];

const text = (before: string, bad: readonly number[], after = ''): Buffer =>
  Buffer.concat([Buffer.from(`EVIL ${before}`), Buffer.from(bad), Buffer.from(after)]);

void test('§13 invalid UTF-8 in a text message (overlong, surrogate, > U+10FFFF, truncated) → 1007', T, async () => {
  await withServer({}, async (h) => {
    for (const [what, bad] of [...INVALID, ...TRUNCATED]) {
      await hostile(h, clientFrame({ opcode: OP.TEXT, payload: text('x', bad) }), 1007, what);
    }
    // Long enough for the SIMD whole-span check, with the bad bytes in the middle.
    await hostile(h, clientFrame({ opcode: OP.TEXT, payload: text('y'.repeat(200), [0xed, 0xa0, 0x80], 'z'.repeat(200)) }), 1007, 'surrogate in 400 bytes');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§13 invalid UTF-8 in a close reason → 1007', T, async () => {
  await withServer({}, async (h) => {
    for (const [what, bad] of [...INVALID, ...TRUNCATED]) {
      await hostile(h, clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000, bad) }), 1007, `close reason: ${what}`);
    }
    await h.checkHealthy();
  });
});

void test('§13 fail fast: an invalid first fragment (fin=0) gets 1007 before any further fragment is sent', T, async () => {
  await withServer({}, async (h) => {
    for (const [what, bad] of INVALID) {
      const peer = await h.peer();
      await peer.handshake();
      await peer.write(clientFrame({ opcode: OP.TEXT, fin: false, payload: text('first', bad) }));
      await expectClose(peer, 1007, `first fragment: ${what}`); // nothing else was sent
    }
    // Within one frame: the header announces 1000 bytes, only the first 16 arrive.
    const peer = await h.peer();
    await peer.handshake();
    const whole = clientFrame({ opcode: OP.TEXT, payload: Buffer.concat([text('ab', [0xc0, 0xaf]), Buffer.alloc(990, 0x61)]) });
    await peer.write(whole.subarray(0, 8 + 16)); // 8 header bytes (16-bit length + mask key)
    await expectClose(peer, 1007, 'first 16 bytes of a 1000-byte frame');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§13 a valid 4-byte code point split across fragments (and across writes) → delivered', T, async () => {
  await withServer({}, async (h) => {
    const peer = await h.peer();
    await peer.handshake();
    const smile = Buffer.from('😀', 'utf8'); // F0 9F 98 80
    await peer.write(Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.concat([Buffer.from('a'), smile.subarray(0, 2)]) }),
      clientFrame({ opcode: OP.CONT, payload: Buffer.concat([smile.subarray(2), Buffer.from('b')]) }),
    ]));
    assert.equal((await peer.readFrame()).payload.toString('utf8'), 'a😀b');
    const parts = [...smile].map((b, i) => clientFrame({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: i === 3, payload: [b] }));
    await peer.write(Buffer.concat(parts));
    assert.equal((await peer.readFrame()).payload.toString('utf8'), '😀');
    const one = clientFrame({ opcode: OP.TEXT, payload: `x😀€y${'z'.repeat(100)}` });
    await peer.writeBytewise(one, 1);
    assert.equal((await peer.readFrame()).payload.toString('utf8'), `x😀€y${'z'.repeat(100)}`);
    assert.deepEqual(h.messages, ['a😀b', '😀', `x😀€y${'z'.repeat(100)}`]);
    await h.checkHealthy();
  });
});

void test('§14 close frame with a 1-byte payload → 1002', T, async () => {
  await withServer({}, async (h) => {
    await hostile(h, clientFrame({ opcode: OP.CLOSE, payload: [0x03] }), 1002, '1-byte close');
    await h.checkHealthy();
  });
});

void test('§14 invalid close codes 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 → 1002; valid ones echoed', T, async () => {
  await withServer({}, async (h) => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
      await hostile(h, clientFrame({ opcode: OP.CLOSE, payload: closePayload(code, 'EVIL') }), 1002, `close code ${code}`);
    }
    for (const code of [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999]) {
      await hostile(h, clientFrame({ opcode: OP.CLOSE, payload: closePayload(code, 'ok') }), code, `valid close code ${code}`);
    }
    await h.checkHealthy();
  });
});

void test('§14 data frames after a valid close frame → ignored, never reach the handler', T, async () => {
  await withServer({}, async (h) => {
    const after = Buffer.concat([clientFrame({ opcode: OP.TEXT, payload: 'EVIL-after-close' }), clientFrame({ opcode: OP.PING, payload: 'p' })]);
    const peer = await h.peer();
    await peer.handshake();
    await peer.write(Buffer.concat([clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }), after]));
    const c = await peer.readClose();
    assert.equal(c.code, 1000);
    assert.deepEqual(c.before, [], 'no echo, no pong');
    await peer.write(after); // and more in a later packet
    await peer.waitClosed();
    assert.equal(peer.unread().length, 0, 'nothing after the close frame');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§14 a peer that never answers our close is cut off after closeTimeout (300 ms)', T, async () => {
  await withServer({ closeTimeout: 300 }, async (h) => {
    const connection = h.nextConnection();
    const peer = await h.peer();
    await peer.handshake();
    const ws = await connection;
    const closed = once(ws, 'close');
    const t0 = performance.now();
    ws.close(1000, 'bye');
    assert.equal((await peer.readClose()).code, 1000);
    await peer.waitClosed(2000);
    const ms = performance.now() - t0;
    assert.ok(ms >= 250 && ms < 1500, `cut off after ${ms.toFixed(0)} ms`);
    const [code] = (await closed) as [number];
    assert.equal(code, 1006);
    await h.checkHealthy();
  });
});

void test('§14 a peer that sends close but never closes TCP is cut off after closeTimeout (300 ms)', T, async () => {
  await withServer({ closeTimeout: 300 }, async (h) => {
    const connection = h.nextConnection();
    const peer = await h.peer();
    await peer.handshake();
    const ws = await connection;
    const closed = once(ws, 'close');
    const t0 = performance.now();
    await peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.equal((await peer.readClose()).code, 1000);
    const [code] = (await closed) as [number]; // the peer keeps its half of TCP open
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `server let go after ${ms.toFixed(0)} ms`);
    assert.equal(code, 1000);
    await h.checkHealthy();
  });
});

void test('§13–§14 client role: invalid UTF-8 and broken close frames from a server', T, async () => {
  const cases: Array<[string, Buffer, number]> = [
    ['surrogate in text', frame({ opcode: OP.TEXT, payload: text('x', [0xed, 0xa0, 0x80]) }), 1007],
    ['truncated text', frame({ opcode: OP.TEXT, payload: text('x', [0xe2, 0x82]) }), 1007],
    ['invalid first fragment', frame({ opcode: OP.TEXT, fin: false, payload: text('x', [0xc0, 0xaf]) }), 1007],
    ['overlong in close reason', frame({ opcode: OP.CLOSE, payload: closePayload(1000, [0xc0, 0xaf]) }), 1007],
    ['1-byte close', frame({ opcode: OP.CLOSE, payload: [0x03] }), 1002],
    ['close code 1005', frame({ opcode: OP.CLOSE, payload: closePayload(1005) }), 1002],
    ['close code 5000', frame({ opcode: OP.CLOSE, payload: closePayload(5000) }), 1002],
  ];
  for (const [what, bytes, code] of cases) {
    const out = await clientMeets(bytes);
    assert.equal(out.sentCode, code, what);
    assert.equal(out.sentMasked, true, what);
    assert.deepEqual(out.messages, [], what);
  }
  const split = await clientMeets(Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: [0xf0, 0x9f] }),
    frame({ opcode: OP.CONT, payload: [0x98, 0x80] }),
    frame({ opcode: OP.CLOSE, payload: closePayload(1000) }),
  ]));
  assert.deepEqual(split.messages, ['😀']);
  assert.equal(split.sentCode, 1000);
});
