/**
 * The permessage-deflate codec (RFC 7692 §7.2) on its own: compression and inflation with and
 * without context takeover, window sizes, the 00 00 ff ff tail, the payload limit applied while
 * inflating (bombs), corrupt data, the concurrency limit, when zlib memory is held, and the
 * frame a prepared message is compressed into once for every connection (sharedFrame).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { SHARED_COMPRESSION_LIMIT } from '../../src/node/deflate-codec.js';
import { deflateStats, drainDeflatePool } from '../../src/node/zlib-pool.js';
import { ProtocolError } from '../../src/protocol/index.js';
import { prepareMessage } from '../../src/node/prepared-message.js';
import { codec, compress, decompress, inflateAlone, json } from './deflate-helpers.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

void describe('RFC 7692 §7.2 compression and inflation', () => {
  void test('messages round-trip server → client and client → server, text and binary', async () => {
    const server = codec(true);
    const client = codec(false);
    try {
      const messages = [Buffer.from(json(1)), randomBytes(5000), Buffer.from('héllo ✓ 🎉'), Buffer.alloc(70_000, 'abc'), Buffer.alloc(1)];
      for (const m of messages) {
        assert.ok((await decompress(client, await compress(server, m))).equals(m), 'server → client');
        assert.ok((await decompress(server, await compress(client, m))).equals(m), 'client → server');
      }
    } finally {
      server.close();
      client.close();
    }
  });

  void test('the 00 00 ff ff tail is removed before sending (§7.2.1); an empty message is the single byte 00 (§7.2.3.6)', async () => {
    const c = codec(true);
    try {
      const out = await compress(c, 'Hello');
      assert.notDeepEqual([...out.subarray(-4)], [0, 0, 0xff, 0xff]);
      assert.equal(inflateAlone(out).toString(), 'Hello');
      assert.deepEqual([...(await compress(c, ''))], [0x00]);
      assert.equal(inflateAlone(await compress(c, '')).length, 0);
    } finally {
      c.close();
    }
  });

  void test('the RFC 7692 §7.2.3.1 example "Hello" inflates from its 7 bytes', async () => {
    const c = codec(false);
    try {
      const out = await decompress(c, Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]));
      assert.equal(out.toString(), 'Hello');
    } finally {
      c.close();
    }
  });

  void test('context takeover: a repeated message compresses smaller and refers to the previous one', async () => {
    const server = codec(true);
    const client = codec(false);
    try {
      const m = json(7);
      const first = await compress(server, m);
      const second = await compress(server, m);
      assert.ok(second.length < first.length / 3, `second ${second.length} bytes vs first ${first.length}`);
      // Alone, the second message does not inflate: it points into the first one's window.
      assert.throws(() => inflateAlone(second));
      assert.equal((await decompress(client, first)).toString(), m);
      assert.equal((await decompress(client, second)).toString(), m);
    } finally {
      server.close();
      client.close();
    }
  });

  for (const side of ['server', 'client'] as const) {
    void test(`no context takeover (${side}): every message stands alone`, async () => {
      const isServer = side === 'server';
      const p = isServer ? { serverNoContextTakeover: true } : { clientNoContextTakeover: true };
      const sender = codec(isServer, p);
      const receiver = codec(!isServer, p);
      try {
        const m = json(3);
        const outs = [await compress(sender, m), await compress(sender, m), await compress(sender, m)];
        assert.ok(outs[1]!.equals(outs[0]!) && outs[2]!.equals(outs[0]!), 'identical messages compress identically');
        for (const out of outs) {
          assert.equal(inflateAlone(out).toString(), m);
          assert.equal((await decompress(receiver, out)).toString(), m);
        }
      } finally {
        sender.close();
        receiver.close();
      }
    });
  }

  void test('the negotiated window is honoured: 9-bit output inflates with a 9-bit window', async () => {
    // 600 random bytes repeated: matches 600 bytes back, beyond a 512-byte window.
    const block = randomBytes(600);
    const data = Buffer.concat([block, block, block, block]);
    const small = codec(true, { serverMaxWindowBits: 9, serverNoContextTakeover: true });
    const large = codec(true, { serverNoContextTakeover: true });
    try {
      const out9 = await compress(small, data);
      assert.ok(inflateAlone(out9, 9).equals(data), 'a peer with a 512-byte window inflates it');
      const out15 = await compress(large, data);
      // The small window cannot see 600 bytes back, so it finds none of the repeats.
      assert.ok(out9.length > data.length * 0.9, `9-bit output ${out9.length} bytes`);
      assert.ok(out15.length < data.length * 0.4, `15-bit output ${out15.length} bytes`);
      for (let bits = 8; bits <= 15; bits++) {
        const c = codec(false, { clientMaxWindowBits: bits });
        const out = await compress(c, data);
        c.close();
        assert.ok(inflateAlone(out, Math.max(bits, 9)).equals(data), `client window ${bits}`);
      }
    } finally {
      small.close();
      large.close();
    }
  });

  void test('fragments compress into one message; an empty last fragment still ends it correctly', async () => {
    const sender = codec(false);
    const receiver = codec(true);
    try {
      const parts = [await compress(sender, 'Hel', false), await compress(sender, 'lo', false), await compress(sender, '', true)];
      assert.equal((await decompress(receiver, Buffer.concat(parts))).toString(), 'Hello');
      // The stream carries on for the next message.
      assert.equal((await decompress(receiver, await compress(sender, 'again'))).toString(), 'again');
    } finally {
      sender.close();
      receiver.close();
    }
  });
});

void describe('bad-input guide §16–§17: the limit applies while inflating; corrupt data', () => {
  const MiB = 1024 * 1024;

  /** A DEFLATE stream of `size` zero bytes without its tail: the best ratio DEFLATE allows (~1030:1). */
  function bomb(size: number): Buffer {
    // Flushed the way a permessage-deflate sender does, then the tail removed (§7.2.1).
    const d = zlib.deflateRawSync(Buffer.alloc(size), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.deepEqual([...d.subarray(-4)], [0, 0, 0xff, 0xff]);
    return d.subarray(0, d.length - 4);
  }

  void test('a ~100 KiB message that inflates to 100 MiB, with maxPayload 1 MiB → 1009, memory stays bounded', async () => {
    const payload = bomb(100 * MiB);
    assert.ok(payload.length < 110 * 1024, `bomb is ${payload.length} bytes`);
    const c = codec(true, {}, MiB);
    global.gc?.();
    const before = process.memoryUsage();
    const t0 = performance.now();
    let peakRss = before.rss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 2);
    try {
      await assert.rejects(decompress(c, payload), (e: unknown) => {
        assert.ok(e instanceof ProtocolError);
        assert.equal(e.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
        assert.equal(e.closeCode, 1009);
        return true;
      });
    } finally {
      clearInterval(sampler);
      c.close();
    }
    const elapsed = performance.now() - t0;
    const after = process.memoryUsage();
    peakRss = Math.max(peakRss, after.rss);
    const grew = (peakRss - before.rss) / MiB;
    assert.ok(grew < 40, `RSS grew ${grew.toFixed(1)} MiB while refusing the bomb (100 MiB if inflated whole)`);
    assert.ok((after.external - before.external) / MiB < 20, 'no inflated output is kept');
    assert.ok(elapsed < 2000, `stopped early (${elapsed.toFixed(0)} ms)`);
  });

  void test('a ~10 KiB message that inflates to 10 MiB, with maxPayload 1 MiB → 1009 (client side too)', async () => {
    const payload = bomb(10 * MiB);
    assert.ok(payload.length < 11 * 1024, `bomb is ${payload.length} bytes`);
    for (const isServer of [true, false]) {
      const c = codec(isServer, {}, MiB);
      try {
        await assert.rejects(decompress(c, payload), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 });
      } finally {
        c.close();
      }
    }
  });

  void test('an inflated size exactly at maxPayload is accepted; one byte more is 1009', async () => {
    const limit = 256 * 1024;
    const sender = codec(false, { clientNoContextTakeover: true });
    const exact = Buffer.from(json(1).repeat(Math.ceil(limit / json(1).length))).subarray(0, limit);
    const over = Buffer.concat([exact, Buffer.from('x')]);
    const ok = codec(true, { clientNoContextTakeover: true }, limit);
    const tooBig = codec(true, { clientNoContextTakeover: true }, limit);
    try {
      assert.equal((await decompress(ok, await compress(sender, exact))).length, limit);
      await assert.rejects(decompress(tooBig, await compress(sender, over)), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
      // Incompressible data at the limit too.
      const random = randomBytes(limit);
      assert.equal((await decompress(ok, await compress(sender, random))).length, limit);
    } finally {
      sender.close();
      ok.close();
      tooBig.close();
    }
  });

  void test('corrupt data → 1007 ERR_WS_INFLATE_FAILED, no stray zlib exception', async () => {
    // A message compressed with context takeover refers back to the one before it.
    const sender = codec(false);
    await compress(sender, json(1));
    const dangling = await compress(sender, json(1));
    sender.close();
    const corrupt = [
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // reserved block type 11
      Buffer.from([0x00, 0x05, 0x00, 0x05, 0x00]), // stored block whose LEN and NLEN disagree
      dangling, // a distance before the start of the window
      Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xff, 0xff, 0xff]), // a valid message, then a reserved block type
    ];
    for (const [i, bytes] of corrupt.entries()) {
      const c = codec(true);
      try {
        await assert.rejects(decompress(c, bytes), (e: unknown) => {
          assert.ok(e instanceof ProtocolError, `case ${i}: a ProtocolError`);
          assert.equal(e.code, 'ERR_WS_INFLATE_FAILED', `case ${i}`);
          assert.equal(e.closeCode, 1007, `case ${i}`);
          return true;
        });
      } finally {
        c.close();
      }
    }
  });
});

void describe('memory: lazy zlib streams, release on close, the concurrency limit', () => {
  void test('an idle connection holds no zlib stream; one with context takeover holds one until closed', async () => {
    drainDeflatePool();
    await nextTurn();
    const base = deflateStats().streams;
    const idle = Array.from({ length: 100 }, () => codec(true));
    assert.equal(deflateStats().streams, base, 'no stream at creation');
    const c = idle[0]!;
    const out = await compress(c, json(1));
    assert.equal(deflateStats().streams, base + 1, 'one compressor after the first message');
    const peer = codec(false);
    await decompress(peer, out);
    assert.equal(deflateStats().streams, base + 2, "and the peer's decompressor");
    for (const x of idle) x.close();
    peer.close();
    await nextTurn();
    assert.equal(deflateStats().streams, base, 'streams are released at close');
  });

  void test('without context takeover no stream stays with the connection: they go back to a small shared pool', async () => {
    drainDeflatePool();
    await nextTurn();
    const base = deflateStats().streams;
    const p = { serverNoContextTakeover: true, clientNoContextTakeover: true };
    const conns = Array.from({ length: 50 }, () => codec(true, p));
    const client = codec(false, p);
    for (const c of conns) {
      const m = json(2);
      assert.equal((await decompress(c, await compress(client, m))).toString(), m);
      await compress(c, m);
    }
    const s = deflateStats();
    assert.ok(s.streams - base <= 3, `${s.streams - base} streams for 50 connections (one per configuration, reused)`);
    assert.equal(s.pooled, s.streams - base, 'every stream is idle in the pool');
    drainDeflatePool();
    await nextTurn();
    assert.equal(deflateStats().streams, base, 'the pool empties');
    for (const c of conns) c.close();
    client.close();
  });

  void test('at most concurrencyLimit zlib jobs run at once; the rest queue and all complete', async () => {
    const limit = 3;
    const options = { concurrencyLimit: limit };
    const conns = Array.from({ length: 200 }, () => codec(true, { serverNoContextTakeover: true }, 0, options));
    let maxRunning = 0;
    const sample = (): void => { maxRunning = Math.max(maxRunning, deflateStats().running); };
    const jobs = conns.map((c, i) => compress(c, `${json(i)}${'x'.repeat(i * 100)}`).then((out) => { sample(); return out; }));
    sample();
    assert.ok(deflateStats().queued >= 190, 'the burst queued');
    const outs = await Promise.all(jobs);
    assert.ok(maxRunning <= limit, `max ${maxRunning} running`);
    for (const [i, out] of outs.entries()) assert.equal(inflateAlone(out).toString(), `${json(i)}${'x'.repeat(i * 100)}`);
    for (const c of conns) c.close();
  });

  void test('close() while a job is queued or running fails it and frees its slot', async () => {
    const c = codec(true, {}, 0, { concurrencyLimit: 1 });
    const pending = compress(c, 'a'.repeat(100_000));
    const queued = compress(c, 'b');
    c.close();
    await assert.rejects(pending);
    await assert.rejects(queued);
    const d = codec(true, {}, 0, { concurrencyLimit: 1 });
    assert.equal(inflateAlone(await compress(d, 'still works')).toString(), 'still works');
    d.close();
  });
});

void describe('fan-out: sharedFrame (a prepared message compressed once for every connection)', () => {
  /** The payload of a frame with a 7- or 16-bit length. */
  function payloadOf(frame: Buffer): Buffer {
    const len = frame[1]! & 0x7f;
    return frame.subarray(len === 126 ? 4 : len === 127 ? 10 : 2);
  }

  void test('two server connections with the same window get the very same bytes, which inflate with or without history', async () => {
    const text = json(40);
    const message = prepareMessage(text);
    const a = codec(true);
    const b = codec(true, { serverNoContextTakeover: true });
    const frame = a.sharedFrame(message);
    assert.ok(frame !== undefined);
    assert.equal(b.sharedFrame(message), frame, 'computed once, shared');
    assert.equal(frame[0], 0x80 | 0x40 | 0x1, 'FIN, RSV1, text');
    assert.ok(frame.length < Buffer.byteLength(text) / 2, 'compressed');
    assert.equal(inflateAlone(payloadOf(frame)).toString(), text);
    // A client whose inflater already holds context from earlier messages inflates it too.
    const client = codec(false);
    await decompress(client, await compress(a, json(1)));
    assert.equal((await decompress(client, payloadOf(frame))).toString(), text);
    for (const c of [a, b, client]) c.close();
  });

  void test('a smaller window gets its own frame, decodable within that window; binary stays binary', () => {
    const bytes = randomBytes(4000).toString('hex');
    const message = prepareMessage(Buffer.from(bytes), { binary: true });
    const w15 = codec(true);
    const w10 = codec(true, { serverMaxWindowBits: 10 });
    const f15 = w15.sharedFrame(message)!;
    const f10 = w10.sharedFrame(message)!;
    assert.notEqual(f10, f15);
    assert.equal(f10[0], 0x80 | 0x40 | 0x2, 'FIN, RSV1, binary');
    assert.equal(inflateAlone(payloadOf(f10), 10).toString(), bytes);
    w15.close();
    w10.close();
  });

  void test('none on the client side, for an 8-bit window, or above the limit for the event loop', () => {
    const message = prepareMessage(json(10));
    const client = codec(false);
    const w8 = codec(true, { serverMaxWindowBits: 8 });
    const server = codec(true);
    assert.equal(client.sharedFrame(message), undefined);
    assert.equal(w8.sharedFrame(message), undefined);
    assert.equal(server.sharedFrame(prepareMessage(Buffer.alloc(SHARED_COMPRESSION_LIMIT + 1, 0x61))), undefined);
    assert.ok(server.sharedFrame(prepareMessage(Buffer.alloc(SHARED_COMPRESSION_LIMIT, 0x61))) !== undefined, 'the limit itself is allowed');
    for (const c of [client, w8, server]) c.close();
  });
});
