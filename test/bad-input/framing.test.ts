/**
 * Bad-input guide, "Framing (both sides)", §8–§12: hand-built frames that break RFC 6455 §5,
 * sent by a raw peer to a Parley server and by a raw server to a Parley client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { clientFrame, frame, OP } from './raw-peer.js';
import { clientMeets, expectClose, hostile, sleep, withServer } from './server-harness.js';

const T = { timeout: 30_000 };
const MiB = 1024 * 1024;

void test('§8 unmasked client frame at the server → 1002, payload never delivered', T, async () => {
  await withServer({}, async (h) => {
    await hostile(h, frame({ opcode: OP.TEXT, payload: 'EVIL-unmasked' }), 1002, 'unmasked text');
    await hostile(h, frame({ opcode: OP.BINARY, payload: 'EVIL-unmasked-bin' }), 1002, 'unmasked binary');
    await hostile(h, frame({ opcode: OP.PING, payload: 'EVIL-ping' }), 1002, 'unmasked ping');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§8 masked server frame at the Parley client → the client sends close 1002', T, async () => {
  const out = await clientMeets(frame({ opcode: OP.TEXT, payload: 'EVIL-masked', mask: true }));
  assert.equal(out.sentCode, 1002);
  assert.equal(out.sentMasked, true, 'a client close frame must be masked');
  assert.deepEqual(out.messages, []);
  assert.ok([1002, 1006].includes(out.closeEventCode), `client 'close' code ${out.closeEventCode}`);
});

void test('§9 RSV1/RSV2/RSV3 without a negotiated extension (data, control, continuation) → 1002', T, async () => {
  await withServer({}, async (h) => {
    for (const rsv of [4, 2, 1]) {
      await hostile(h, clientFrame({ opcode: OP.TEXT, rsv, payload: `EVIL-rsv${rsv}` }), 1002, `text with RSV bits ${rsv}`);
    }
    await hostile(h, clientFrame({ opcode: OP.PING, rsv: 4, payload: 'EVIL' }), 1002, 'RSV1 on ping');
    const first = clientFrame({ opcode: OP.TEXT, fin: false, payload: 'EVIL-' });
    await hostile(h, Buffer.concat([first, clientFrame({ opcode: OP.CONT, rsv: 4, payload: 'rsv1-cont' })]), 1002, 'RSV1 on continuation');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§9 reserved opcodes 3, 7, 0xB, 0xF → 1002', T, async () => {
  await withServer({}, async (h) => {
    for (const opcode of [0x3, 0x7, 0xb, 0xf]) {
      await hostile(h, clientFrame({ opcode, payload: 'EVIL-opcode' }), 1002, `opcode ${opcode}`);
    }
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§10 ping of 126 bytes, fragmented ping, orphan continuation, text inside a fragmented message → 1002', T, async () => {
  await withServer({}, async (h) => {
    await hostile(h, clientFrame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) }), 1002, 'ping of 126 bytes');
    await hostile(h, clientFrame({ opcode: OP.PING, fin: false, payload: 'EVIL' }), 1002, 'fragmented ping');
    await hostile(h, clientFrame({ opcode: OP.CONT, payload: 'EVIL-orphan' }), 1002, 'continuation with nothing to continue');
    const nested = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'EVIL-part1' }),
      clientFrame({ opcode: OP.TEXT, payload: 'EVIL-nested' }),
    ]);
    await hostile(h, nested, 1002, 'text frame inside a fragmented message');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§11 64-bit length with the top bit set → 1009 or 1002, at once', T, async () => {
  await withServer({}, async (h) => {
    const t0 = performance.now();
    await hostile(h, clientFrame({ opcode: OP.BINARY, declaredLength: 0x8000_0000_0000_0000n }), [1009, 1002], 'top bit set');
    await hostile(h, clientFrame({ opcode: OP.BINARY, declaredLength: 0xffff_ffff_ffff_ffffn }), [1009, 1002], 'all ones');
    assert.ok(performance.now() - t0 < 1500);
    await h.checkHealthy();
  });
});

void test('§11 a header declaring 4 GiB then stalling → 1009 at once, RSS grows < 50 MB', T, async () => {
  await withServer({}, async (h) => {
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    await hostile(h, clientFrame({ opcode: OP.BINARY, declaredLength: 4n * 1024n * BigInt(MiB) }), 1009, '4 GiB');
    const ms = performance.now() - t0;
    const grown = process.memoryUsage().rss - before;
    assert.ok(ms < 1000, `1009 after ${ms.toFixed(0)} ms`);
    assert.ok(grown < 50 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MB`);
    await h.checkHealthy();
  });
});

void test('§11 a header declaring 90 MiB (under maxPayload) then stalling holds no buffer of that size', T, async () => {
  await withServer({}, async (h) => {
    const peer = await h.peer();
    await peer.handshake();
    const before = process.memoryUsage().rss;
    await peer.write(clientFrame({ opcode: OP.BINARY, declaredLength: 90n * BigInt(MiB), payload: Buffer.alloc(64 * 1024, 0x61) }));
    await sleep(300);
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 50 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MB while the frame stalls`);
    assert.equal(peer.isClosed, false, 'a legitimate (if slow) frame is not cut off');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

/**
 * A text message started by one masked frame, then `count - 1` masked continuations (fin=0),
 * never finished; each frame carries `size` (0 or 1) payload bytes. Built in one buffer.
 */
function fragmentFlood(count: number, size: 0 | 1): Buffer {
  const one = clientFrame({ opcode: OP.CONT, fin: false, payload: 'a'.repeat(size) });
  const out = Buffer.alloc(one.length * count);
  for (let o = 0; o < out.length; o += one.length) one.copy(out, o);
  out[0] = OP.TEXT; // the first frame starts the message
  return out;
}

/** The documented default of maxFragments (docs/api.md; raised from 65,536 in 269406b). */
const DEFAULT_MAX_FRAGMENTS = 1_048_576;

void test('§12 empty continuation frames past the default maxFragments (1,048,577 frames) → 1009', T, async () => {
  await withServer({}, async (h) => {
    await hostile(h, fragmentFlood(DEFAULT_MAX_FRAGMENTS + 1, 0), 1009, 'default maxFragments + 1');
    assert.deepEqual(h.messages, []);
    await h.checkHealthy();
  });
});

void test('§12 1,000,000 one-byte fragments (under the limits) → memory stays bounded (RSS grows < 50 MB)', T, async () => {
  await withServer({}, async (h) => {
    const flood = fragmentFlood(1_000_000, 1);
    const peer = await h.peer();
    await peer.handshake();
    const before = process.memoryUsage().rss;
    await peer.write(flood);
    await sleep(500);
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 50 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MB holding a 1 MB message in 1,000,000 pieces`);
    assert.equal(peer.isClosed, false);
    await peer.write(clientFrame({ opcode: OP.CONT, payload: 'z' }));
    const echo = await peer.readFrame(5000);
    assert.equal(echo.payload.length, 1_000_001);
    await h.checkHealthy();
  });
});

void test('§12 maxFragments: 1000 → 1009 at the 1001st frame; 1000 frames are still one message', T, async () => {
  await withServer({ maxFragments: 1000 }, async (h) => {
    await hostile(h, fragmentFlood(100_000, 0), 1009, '100,000 empty fragments, maxFragments 1000');
    assert.deepEqual(h.messages, []);
    const peer = await h.peer();
    await peer.handshake();
    const ok = [clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' })];
    for (let i = 1; i < 999; i++) ok.push(clientFrame({ opcode: OP.CONT, fin: false, payload: 'a' }));
    ok.push(clientFrame({ opcode: OP.CONT, payload: 'a' }));
    await peer.write(Buffer.concat(ok));
    const echo = await peer.readFrame();
    assert.equal(echo.payload.toString(), 'a'.repeat(1000));
    await h.checkHealthy();
  });
});

void test('§12 one valid frame written one byte per packet → delivered intact', T, async () => {
  await withServer({}, async (h) => {
    const peer = await h.peer();
    await peer.handshake();
    const text = `bytewise ✓ 😀 ${'x'.repeat(180)} π`; // 16-bit length form, multi-byte UTF-8
    const bytes = clientFrame({ opcode: OP.TEXT, payload: text });
    const sent = await peer.writeBytewise(bytes, 1);
    assert.equal(sent, bytes.length);
    const echo = await peer.readFrame();
    assert.equal(echo.payload.toString('utf8'), text);
    assert.deepEqual(h.messages, [text]);
    await h.checkHealthy();
  });
});

void test('§9–§12 client role: hostile server frames → the Parley client sends close 1002/1009', T, async () => {
  const cases: Array<[string, Buffer, readonly number[]]> = [
    ['RSV2 on text', frame({ opcode: OP.TEXT, rsv: 2, payload: 'EVIL' }), [1002]],
    ['reserved opcode 0xB', frame({ opcode: 0xb, payload: 'EVIL' }), [1002]],
    ['ping of 126 bytes', frame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) }), [1002]],
    ['orphan continuation', frame({ opcode: OP.CONT, payload: 'EVIL' }), [1002]],
    ['64-bit length, top bit set', frame({ opcode: OP.BINARY, declaredLength: 0x8000_0000_0000_0000n }), [1009, 1002]],
    ['4 GiB declared', frame({ opcode: OP.BINARY, declaredLength: 4n * 1024n * BigInt(MiB) }), [1009]],
  ];
  for (const [what, bytes, codes] of cases) {
    const out = await clientMeets(bytes);
    assert.ok(out.sentCode !== undefined && codes.includes(out.sentCode), `${what}: client sent close ${String(out.sentCode)}`);
    assert.equal(out.sentMasked, true, `${what}: client close frame must be masked`);
    assert.deepEqual(out.messages, [], what);
  }
  const frag = await clientMeets(Buffer.concat([frame({ opcode: OP.TEXT, fin: false }), ...Array.from({ length: 2000 }, () => frame({ opcode: OP.CONT, fin: false }))]), { maxFragments: 1000 });
  assert.equal(frag.sentCode, 1009, 'client maxFragments');
});

void test('§8 a valid frame right behind the unmasked one is not delivered either (the 1002 is final)', T, async () => {
  await withServer({}, async (h) => {
    const peer = await h.peer();
    await peer.handshake();
    await peer.write(Buffer.concat([frame({ opcode: OP.TEXT, payload: 'EVIL' }), clientFrame({ opcode: OP.TEXT, payload: 'EVIL-after' })]));
    const { echoed } = await expectClose(peer, 1002, 'unmasked then masked');
    assert.deepEqual(echoed, []);
    assert.deepEqual(h.messages, []);
  });
});
