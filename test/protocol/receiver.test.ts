import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, ReceiverConfig, type ReceiverOptions } from '../../src/protocol/receiver.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { Defaults } from '../../src/protocol/constants.js';
import { E } from '../fuzz/properties/documented.js';
import {
  DEFAULT_KEY,
  OP,
  Recorder,
  assemblyStream,
  buildFrame,
  buildHeader,
  bytes,
  concat,
  ev,
  everyCut,
  feed,
  feedBytewise,
  feedCuts,
  makeReceiver,
  prng,
  type Event,
  type FrameSpec,
} from './helpers.js';

const SERVER: ReceiverOptions = { expectMasked: true };
const CLIENT: ReceiverOptions = { expectMasked: false };
const ROLES = [
  { name: 'server role (client frames masked)', opts: SERVER, mask: true },
  { name: 'client role (server frames unmasked)', opts: CLIENT, mask: false },
] as const;

/** A payload whose bytes depend on their position, so misplaced bytes show up. */
function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

/** Asserts exactly one error event with this code and close code, and a ProtocolError behind it. */
function assertOnlyError(events: Event[], code: string, closeCode: number, rec?: Recorder): void {
  assert.deepEqual(events, [ev.error(code, closeCode)]);
  if (rec !== undefined) {
    assert.equal(rec.errors.length, 1);
    assert.ok(rec.errors[0] instanceof ProtocolError);
    assert.equal(rec.receiver?.stopped, true);
  }
}

/** Pushes only the header of a frame (plus nothing else) and returns the recorder. */
function pushHeaderOnly(spec: FrameSpec, payloadLength: number, options: ReceiverOptions, before: Uint8Array[] = []): Recorder {
  const { rec, rx } = makeReceiver(options);
  for (const b of before) rx.push(b.slice());
  rx.push(buildHeader(spec, payloadLength));
  return rec;
}

void describe('RFC 6455 §5.7 examples (literal bytes from the RFC)', () => {
  void test('single-frame unmasked text "Hello"', () => {
    const wire = bytes([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert.deepEqual(buildFrame({ opcode: OP.TEXT, payload: 'Hello' }), wire, 'test helper agrees with the RFC');
    assert.deepEqual(feed(wire, CLIENT), [ev.text('Hello')]);
  });

  void test('single-frame masked text "Hello"', () => {
    const wire = bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    assert.deepEqual(buildFrame({ opcode: OP.TEXT, payload: 'Hello', mask: true }), wire, 'test helper agrees with the RFC');
    assert.deepEqual(feed(wire, SERVER), [ev.text('Hello')]);
  });

  void test('fragmented unmasked text "Hel" + "lo"', () => {
    const wire = bytes([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    assert.deepEqual(feed(wire, CLIENT), [ev.text('Hello')]);
  });

  void test('unmasked ping and masked pong', () => {
    assert.deepEqual(feed(bytes([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), CLIENT), [ev.ping('Hello')]);
    assert.deepEqual(feed(bytes([0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]), SERVER), [ev.pong('Hello')]);
  });

  void test('256 bytes binary (16-bit length) and 64 KiB binary (64-bit length)', () => {
    const p256 = pattern(256);
    assert.deepEqual(feed(concat(bytes([0x82, 0x7e, 0x01, 0x00]), p256), CLIENT), [ev.binary(p256)]);
    const p64k = pattern(65536);
    const h = bytes([0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    assert.deepEqual(feed(concat(h, p64k), CLIENT), [ev.binary(p64k)]);
  });
});

void describe('RFC 6455 §5.2 base framing', () => {
  const lengths = [0, 1, 2, 124, 125, 126, 127, 1000, 65535, 65536, 65537, 70001];
  for (const role of ROLES) {
    for (const n of lengths) {
      void test(`${role.name}: binary payload of ${n} bytes`, () => {
        const payload = pattern(n, n);
        const frame = buildFrame({ opcode: OP.BINARY, payload, mask: role.mask });
        const expectHeader = (n < 126 ? 2 : n < 65536 ? 4 : 10) + (role.mask ? 4 : 0);
        assert.equal(frame.length, expectHeader + n, 'header size of the test frame');
        assert.deepEqual(feed(frame, role.opts), [ev.binary(payload)]);
      });
    }
    void test(`${role.name}: text payloads at 125/126/65535/65536 bytes`, () => {
      for (const n of [125, 126, 65535, 65536]) {
        const text = 'x'.repeat(n - 2) + 'é';
        const frame = buildFrame({ opcode: OP.TEXT, payload: text, mask: role.mask });
        assert.deepEqual(feed(frame, role.opts), [ev.text(text)], `length ${n}`);
      }
    });
  }

  void test('length in a longer form than needed is still decoded correctly', () => {
    for (const form of [16, 64] as const) {
      const payload = pattern(5);
      const frame = buildFrame({ opcode: OP.BINARY, payload, lengthForm: form });
      assert.equal(frame.length, (form === 16 ? 4 : 10) + 5);
      assert.deepEqual(feed(frame, CLIENT), [ev.binary(payload)], `${form}-bit form`);
    }
  });

  void test('empty text, binary, ping and pong frames', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT }),
      buildFrame({ opcode: OP.BINARY }),
      buildFrame({ opcode: OP.PING }),
      buildFrame({ opcode: OP.PONG }),
    );
    assert.deepEqual(feed(stream, CLIENT), [ev.text(''), ev.binary([]), ev.ping(), ev.pong()]);
  });

  void test('payload is delivered only once the frame is complete', () => {
    const payload = pattern(300);
    const frame = buildFrame({ opcode: OP.BINARY, payload, mask: true });
    const { rec, rx } = makeReceiver(SERVER);
    rx.push(frame.slice(0, frame.length - 1));
    assert.deepEqual(rec.events, []);
    rx.push(frame.slice(frame.length - 1));
    assert.deepEqual(rec.events, [ev.binary(payload)]);
  });

  void test('empty chunks are ignored', () => {
    const { rec, rx } = makeReceiver(CLIENT);
    rx.push(new Uint8Array(0));
    const frame = buildFrame({ opcode: OP.TEXT, payload: 'hi' });
    rx.push(frame.slice(0, 1));
    rx.push(new Uint8Array(0));
    rx.push(frame.slice(1));
    assert.deepEqual(rec.events, [ev.text('hi')]);
  });
});

void describe('RFC 6455 §5.1/§5.3 masking', () => {
  void test('server role: unmasked data frame → WS_ERR_EXPECTED_MASK / WS_ERR_UNEXPECTED_MASK 1002, payload never delivered', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.push(buildFrame({ opcode: OP.TEXT, payload: 'secret' }));
    assertOnlyError(rec.events, E.EXPECTED_MASK, 1002, rec);
  });

  void test('client role: masked data frame → WS_ERR_EXPECTED_MASK / WS_ERR_UNEXPECTED_MASK 1002, payload never delivered', () => {
    const { rec, rx } = makeReceiver(CLIENT);
    rx.push(buildFrame({ opcode: OP.BINARY, payload: [1, 2, 3], mask: true }));
    assertOnlyError(rec.events, E.UNEXPECTED_MASK, 1002, rec);
  });

  void test('mask mismatch on control frames too', () => {
    assertOnlyError(feed(buildFrame({ opcode: OP.PING, payload: 'p' }), SERVER), E.EXPECTED_MASK, 1002);
    assertOnlyError(feed(buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe8], mask: true }), CLIENT), E.UNEXPECTED_MASK, 1002);
  });

  void test('mask mismatch is reported from the header alone', () => {
    for (const role of ROLES) {
      const rec = pushHeaderOnly({ opcode: OP.BINARY, mask: !role.mask }, 1000, role.opts);
      assertOnlyError(rec.events, role.mask ? E.EXPECTED_MASK : E.UNEXPECTED_MASK, 1002);
    }
  });

  void test('nothing after a mask error is parsed', () => {
    const stream = concat(buildFrame({ opcode: OP.TEXT, payload: 'bad' }), buildFrame({ opcode: OP.TEXT, payload: 'good', mask: true }));
    assertOnlyError(feed(stream, SERVER), E.EXPECTED_MASK, 1002);
  });

  void test('an all-zero masking key still counts as masked', () => {
    const frame = buildFrame({ opcode: OP.TEXT, payload: 'zero', mask: Uint8Array.of(0, 0, 0, 0) });
    assert.deepEqual(feed(frame, SERVER), [ev.text('zero')]);
    assertOnlyError(feed(frame, CLIENT), E.UNEXPECTED_MASK, 1002);
  });

  void test('random keys and lengths unmask correctly, fed whole and in random chunks', () => {
    const r = prng(0x5eed);
    for (let iter = 0; iter < 200; iter++) {
      const n = r.int(400);
      const key = r.bytes(4);
      const payload = r.bytes(n);
      const frame = buildFrame({ opcode: OP.BINARY, payload, mask: key });
      const cuts: number[] = [];
      for (let c = r.int(frame.length); c < frame.length; c += 1 + r.int(40)) cuts.push(c);
      assert.deepEqual(feedCuts(frame, SERVER, cuts), [ev.binary(payload)], `iteration ${iter}`);
    }
  });
});

void describe('stream chunking (RFC 6455 §5.2: a frame may arrive in any number of TCP segments)', () => {
  const stream = concat(
    buildFrame({ opcode: OP.TEXT, payload: 'héllo €uro 😀', mask: true }),
    buildFrame({ opcode: OP.BINARY, payload: pattern(300), mask: true }),
    buildFrame({ opcode: OP.TEXT, payload: 'frag-', fin: false, mask: true }),
    buildFrame({ opcode: OP.PING, payload: 'in the middle', mask: true }),
    buildFrame({ opcode: OP.CONT, payload: 'ment', fin: false, mask: true }),
    buildFrame({ opcode: OP.PONG, payload: [], mask: true }),
    buildFrame({ opcode: OP.CONT, payload: 'ed ✓', mask: true }),
    buildFrame({ opcode: OP.BINARY, payload: pattern(70000, 3), mask: true }),
    buildFrame({ opcode: OP.CLOSE, payload: concat(bytes([0x03, 0xe8]), bytes('bye')), mask: true }),
  );
  const expected: Event[] = [
    ev.text('héllo €uro 😀'),
    ev.binary(pattern(300)),
    ev.ping('in the middle'),
    ev.pong(),
    ev.text('frag-mented ✓'),
    ev.binary(pattern(70000, 3)),
    ev.close(1000, 'bye'),
  ];

  void test('whole-chunk feeding gives the expected events', () => {
    assert.deepEqual(feed(stream, SERVER), expected);
  });

  void test('byte-at-a-time feeding gives identical events', () => {
    assert.deepEqual(feedBytewise(stream, SERVER), feed(stream, SERVER));
    assert.deepEqual(feedBytewise(stream, SERVER), expected);
  });

  void test('two chunks cut at every offset of the first 400 bytes give identical events', () => {
    for (let k = 1; k < 400; k++) {
      assert.deepEqual(feedCuts(stream, SERVER, [k]), expected, `cut at ${k}`);
    }
  });

  void test('random chunkings (seeded) give identical events', () => {
    const r = prng(1234);
    for (let iter = 0; iter < 100; iter++) {
      const cuts: number[] = [];
      for (let c = 1 + r.int(20); c < stream.length; c += 1 + r.int(iter % 2 === 0 ? 20 : 5000)) cuts.push(c);
      assert.deepEqual(feedCuts(stream, SERVER, cuts), expected, `iteration ${iter}`);
    }
  });

  void test('many frames in one chunk', () => {
    const frames: Uint8Array[] = [];
    const want: Event[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 3 === 0) {
        frames.push(buildFrame({ opcode: OP.TEXT, payload: `m${i}` }));
        want.push(ev.text(`m${i}`));
      } else if (i % 3 === 1) {
        frames.push(buildFrame({ opcode: OP.BINARY, payload: pattern(i % 200, i) }));
        want.push(ev.binary(pattern(i % 200, i)));
      } else {
        frames.push(buildFrame({ opcode: OP.PING, payload: String(i) }));
        want.push(ev.ping(String(i)));
      }
    }
    assert.deepEqual(feed(concat(...frames), CLIENT), want);
  });

  for (const [label, masked, n, size] of [
    ['masked 64-bit header', true, 65536, 14],
    ['masked 16-bit header', true, 200, 8],
    ['masked 7-bit header', true, 10, 6],
    ['unmasked 64-bit header', false, 65536, 10],
    ['unmasked 16-bit header', false, 126, 4],
  ] as const) {
    void test(`header split across chunks at every offset: ${label} (${size} bytes)`, () => {
      const payload = pattern(n, 9);
      const frame = buildFrame({ opcode: OP.BINARY, mask: masked, payload });
      const headerLen = frame.length - n;
      assert.equal(headerLen, size);
      const opts = masked ? SERVER : CLIENT;
      for (let k = 1; k < headerLen; k++) {
        const { rec, rx } = makeReceiver(opts);
        const copy = frame.slice();
        rx.push(copy.subarray(0, k));
        rx.push(copy.subarray(k, headerLen));
        assert.deepEqual(rec.events, [], `no event before the payload (cut ${k})`);
        rx.push(copy.subarray(headerLen));
        assert.deepEqual(rec.events, [ev.binary(payload)], `cut at ${k}`);
        // Three pieces: split the rest of the header as well, and join it with the payload.
        for (let k2 = k + 1; k2 < headerLen; k2++) {
          assert.deepEqual(feedCuts(frame, opts, [k, k2]), [ev.binary(payload)], `cuts at ${k}, ${k2}`);
        }
      }
    });
  }

  void test('partial header followed by the rest of the header and the next frames in one chunk', () => {
    const a = buildFrame({ opcode: OP.TEXT, payload: 'x'.repeat(200), mask: true });
    const b = buildFrame({ opcode: OP.TEXT, payload: 'y', mask: true });
    const s = concat(a, b);
    for (let k = 1; k < 8; k++) {
      assert.deepEqual(feedCuts(s, SERVER, [k]), [ev.text('x'.repeat(200)), ev.text('y')], `cut ${k}`);
    }
  });
});

void describe('RFC 6455 §5.2 reserved bits and opcodes', () => {
  void test('RSV2 set → WS_ERR_UNEXPECTED_RSV_2_3 1002', () => {
    assertOnlyError(feed(buildFrame({ opcode: OP.TEXT, payload: 'a', rsv2: true }), CLIENT), E.RSV23, 1002);
    assertOnlyError(feed(buildFrame({ opcode: OP.TEXT, payload: 'a', rsv2: true }), { expectMasked: false, allowRsv1: true }), E.RSV23, 1002);
  });

  void test('RSV3 set → WS_ERR_UNEXPECTED_RSV_2_3 1002', () => {
    assertOnlyError(feed(buildFrame({ opcode: OP.BINARY, payload: 'a', rsv3: true, mask: true }), SERVER), E.RSV23, 1002);
    assertOnlyError(feed(buildFrame({ opcode: OP.PING, rsv3: true }), CLIENT), E.RSV23, 1002);
  });

  void test('RSV1 without allowRsv1 → WS_ERR_UNEXPECTED_RSV_1 1002', () => {
    assertOnlyError(feed(buildFrame({ opcode: OP.TEXT, payload: 'a', rsv1: true }), CLIENT), E.RSV1, 1002);
    assertOnlyError(feed(buildFrame({ opcode: OP.BINARY, payload: 'a', rsv1: true }), { expectMasked: false, allowRsv1: false }), E.RSV1, 1002);
  });

  void test('RSV1 with allowRsv1 marks the message compressed, unvalidated', () => {
    const opts = { expectMasked: false, allowRsv1: true };
    const raw = bytes([0xff, 0xfe, 0x00, 0xc0]); // not UTF-8: the inflater validates later
    assert.deepEqual(feed(buildFrame({ opcode: OP.TEXT, payload: raw, rsv1: true }), opts), [
      { kind: 'message', data: raw, isBinary: false, compressed: true },
    ]);
    assert.deepEqual(feed(buildFrame({ opcode: OP.BINARY, payload: raw, rsv1: true }), opts), [
      { kind: 'message', data: raw, isBinary: true, compressed: true },
    ]);
    // Compressed over two fragments (RSV1 on the first only), then an uncompressed message.
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: [1, 2], rsv1: true, fin: false }),
      buildFrame({ opcode: OP.CONT, payload: [3] }),
      buildFrame({ opcode: OP.TEXT, payload: 'plain' }),
    );
    assert.deepEqual(feed(stream, opts), [
      { kind: 'message', data: bytes([1, 2, 3]), isBinary: false, compressed: true },
      ev.text('plain'),
    ]);
  });

  void test('RSV1 on a control frame → WS_ERR_UNEXPECTED_RSV_1 1002 even with allowRsv1', () => {
    for (const opcode of [OP.PING, OP.PONG, OP.CLOSE]) {
      assertOnlyError(feed(buildFrame({ opcode, rsv1: true }), { expectMasked: false, allowRsv1: true }), E.RSV1, 1002);
    }
  });

  void test('RSV1 on a continuation frame → WS_ERR_UNEXPECTED_RSV_1 1002 even with allowRsv1', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: [1], rsv1: true, fin: false }),
      buildFrame({ opcode: OP.CONT, payload: [2], rsv1: true }),
    );
    assertOnlyError(feed(stream, { expectMasked: false, allowRsv1: true }), E.RSV1, 1002);
  });

  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    void test(`reserved opcode 0x${opcode.toString(16)} → WS_ERR_INVALID_OPCODE 1002`, () => {
      assertOnlyError(feed(buildFrame({ opcode, payload: 'x', mask: true }), SERVER), E.OPCODE, 1002);
      assertOnlyError(feed(buildFrame({ opcode }), CLIENT), E.OPCODE, 1002);
      // Also inside a fragmented message, and reported from the header alone.
      const rec = pushHeaderOnly({ opcode }, 3, CLIENT, [buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false })]);
      assertOnlyError(rec.events, E.OPCODE, 1002);
    });
  }
});

void describe('RFC 6455 §5.4 fragmentation', () => {
  void test('text over three fragments assembles', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'one ', fin: false, mask: true }),
      buildFrame({ opcode: OP.CONT, payload: 'two ', fin: false, mask: true }),
      buildFrame({ opcode: OP.CONT, payload: 'three', mask: true }),
    );
    assert.deepEqual(feed(stream, SERVER), [ev.text('one two three')]);
  });

  void test('binary over many fragments, including empty ones, assembles', () => {
    const parts = [pattern(0), pattern(10, 1), pattern(0), pattern(300, 2), pattern(70000, 3), pattern(1, 4), pattern(0)];
    const frames = parts.map((p, i) =>
      buildFrame({ opcode: i === 0 ? OP.BINARY : OP.CONT, payload: p, fin: i === parts.length - 1 }),
    );
    assert.deepEqual(feed(concat(...frames), CLIENT), [ev.binary(concat(...parts))]);
  });

  void test('reassembled messages live in memory from the allocate option', () => {
    const allocated: Uint8Array[] = [];
    const opts: ReceiverOptions = {
      expectMasked: false,
      allocate: (n) => {
        const b = new Uint8Array(n);
        allocated.push(b);
        return b;
      },
    };
    const { rec, rx } = makeReceiver(opts);
    rx.push(
      concat(
        buildFrame({ opcode: OP.BINARY, payload: pattern(7), fin: false }),
        buildFrame({ opcode: OP.CONT, payload: pattern(9, 1) }),
      ),
    );
    assert.deepEqual(rec.events, [ev.binary(concat(pattern(7), pattern(9, 1)))]);
    assert.ok(allocated.length >= 1, 'allocate was called');
  });

  void test('large pieces of a message are kept as views: one allocation (the message), not one per piece', () => {
    // A 100 KB frame fed as chunks of 40 KB, 40 KB and the rest: each piece fills its chunk.
    const allocated: number[] = [];
    const payload = pattern(100_000, 3);
    const frame = buildFrame({ opcode: OP.BINARY, payload, mask: true });
    const opts: ReceiverOptions = { expectMasked: true, allocate: (n) => { allocated.push(n); return new Uint8Array(n); } };
    const { rec, rx } = makeReceiver(opts);
    // Each chunk in memory of its own, as a socket delivers them.
    for (const [from, to] of [[0, 40_000], [40_000, 80_000], [80_000, frame.length]] as const) rx.push(frame.slice(from, to));
    assert.deepEqual(rec.events, [ev.binary(payload)]);
    assert.deepEqual(allocated, [100_000]);
  });

  void test('a large final frame that arrives as a chunk and a small tail: one allocation, the message, and no buffer for the tail', () => {
    // The way a 64 KiB message comes off a socket: its first 64 KiB chunk is more than half of
    // it, so it goes straight into the message's buffer and so does the tail.
    const allocated: number[] = [];
    const payload = pattern(66_000, 4);
    const frame = buildFrame({ opcode: OP.BINARY, payload, mask: true });
    const opts: ReceiverOptions = { expectMasked: true, allocate: (n) => { allocated.push(n); return new Uint8Array(n); } };
    const { rec, rx } = makeReceiver(opts);
    rx.push(frame.slice(0, 65_536));
    rx.push(frame.slice(65_536));
    assert.deepEqual(rec.events, [ev.binary(payload)]);
    assert.deepEqual(allocated, [66_000]);
  });

  void test('a small piece that shares its chunk with other frames is copied, not kept as a view of the chunk', () => {
    // 5 KB of the message sits at the end of a chunk that is mostly other (ping) frames: a view
    // would pin the whole chunk, so it is copied into the receiver's own buffer.
    // (In a first fragment, so it is held, not yet gathered into the message's buffer.)
    const allocated: number[] = [];
    const payload = pattern(6000, 5);
    const pings = concat(...Array.from({ length: 200 }, () => buildFrame({ opcode: OP.PING, payload: pattern(100), mask: true })));
    const frame = concat(buildFrame({ opcode: OP.BINARY, payload, fin: false, mask: true }), buildFrame({ opcode: OP.CONT, payload: [7], mask: true }));
    const opts: ReceiverOptions = { expectMasked: true, allocate: (n) => { allocated.push(n); return new Uint8Array(n); } };
    const { rec, rx } = makeReceiver(opts);
    rx.push(concat(pings, frame.subarray(0, 5000)));
    rx.push(frame.slice(5000));
    assert.equal(rec.events.length, 201);
    assert.deepEqual(rec.events[200], ev.binary(concat(payload, bytes([7]))));
    assert.ok(allocated.length >= 2, `the small piece was copied (allocations: ${allocated.join(', ')})`);
  });

  void test('the mask option replaces the built-in unmasking (same contract as applyMask)', () => {
    const calls: Array<[number, number]> = [];
    const payload = pattern(3000, 9);
    const opts: ReceiverOptions = {
      expectMasked: true,
      mask: (data, key, offset = 0, start = 0, end = data.length) => {
        calls.push([offset, end - start]);
        for (let i = start; i < end; i++) data[i] = data[i]! ^ key[(offset + i - start) & 3]!;
      },
    };
    assert.deepEqual(feedCuts(buildFrame({ opcode: OP.BINARY, payload, mask: true }), opts, [1000, 2500]), [ev.binary(payload)]);
    assert.deepEqual(calls, [[0, 1000 - 8], [992, 1500], [2492, 508]]);
  });

  void test('random fragment sizes (tiny to over 64 KiB) assemble in order (seeded)', () => {
    const r = prng(77);
    for (let iter = 0; iter < 40; iter++) {
      const parts: Uint8Array[] = [];
      const count = 1 + r.int(iter % 4 === 0 ? 3000 : 40);
      for (let i = 0; i < count; i++) {
        const k = r.int(100);
        parts.push(pattern(k < 60 ? r.int(8) : k < 97 ? r.int(3000) : 60000 + r.int(10000), i));
      }
      const opcode = iter % 2 === 0 ? OP.BINARY : OP.TEXT;
      if (opcode === OP.TEXT) for (const p of parts) p.fill(0x61);
      const frames = parts.map((p, i) => buildFrame({ opcode: i === 0 ? opcode : OP.CONT, payload: p, fin: i === count - 1, mask: true }));
      const stream = concat(...frames, buildFrame({ opcode: OP.PING, payload: 'end', mask: true }));
      const whole = concat(...parts);
      const want: Event[] = [{ kind: 'message', data: whole, isBinary: opcode === OP.BINARY, compressed: false }, ev.ping('end')];
      const cuts: number[] = [];
      for (let c = 1 + r.int(5000); c < stream.length; c += 1 + r.int(5000)) cuts.push(c);
      assert.deepEqual(feedCuts(stream, { expectMasked: true, maxFragments: 0 }, cuts), want, `iteration ${iter}`);
    }
  });

  void test('ping and pong interleaved in a fragmented message are delivered, and the message still assembles', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false, mask: true }),
      buildFrame({ opcode: OP.PING, payload: 'p1', mask: true }),
      buildFrame({ opcode: OP.CONT, payload: 'b', fin: false, mask: true }),
      buildFrame({ opcode: OP.PONG, payload: 'p2', mask: true }),
      buildFrame({ opcode: OP.PING, payload: '', mask: true }),
      buildFrame({ opcode: OP.CONT, payload: 'c', mask: true }),
      buildFrame({ opcode: OP.TEXT, payload: 'next', mask: true }),
    );
    const want = [ev.ping('p1'), ev.pong('p2'), ev.ping(), ev.text('abc'), ev.text('next')];
    assert.deepEqual(feed(stream, SERVER), want);
    assert.deepEqual(feedBytewise(stream, SERVER), want);
  });

  void test('close inside a fragmented message ends parsing without delivering the message', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false }),
      buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe9] }),
      buildFrame({ opcode: OP.CONT, payload: 'b' }),
    );
    assert.deepEqual(feed(stream, CLIENT), [ev.close(1001)]);
  });

  void test('continuation with nothing to continue → WS_ERR_INVALID_OPCODE 1002', () => {
    assertOnlyError(feed(buildFrame({ opcode: OP.CONT, payload: 'x' }), CLIENT), E.OPCODE, 1002);
    assertOnlyError(feed(buildFrame({ opcode: OP.CONT, payload: 'x', fin: false, mask: true }), SERVER), E.OPCODE, 1002);
  });

  void test('continuation after a completed message → WS_ERR_INVALID_OPCODE 1002', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false }),
      buildFrame({ opcode: OP.CONT, payload: 'b' }),
      buildFrame({ opcode: OP.CONT, payload: 'c' }),
    );
    assert.deepEqual(feed(stream, CLIENT), [ev.text('ab'), ev.error(E.OPCODE, 1002)]);
  });

  void test('new text or binary frame inside a fragmented message → WS_ERR_INVALID_OPCODE 1002', () => {
    for (const first of [OP.TEXT, OP.BINARY]) {
      for (const second of [OP.TEXT, OP.BINARY]) {
        for (const fin of [true, false]) {
          const stream = concat(
            buildFrame({ opcode: first, payload: 'a', fin: false }),
            buildFrame({ opcode: second, payload: 'b', fin }),
          );
          assertOnlyError(feed(stream, CLIENT), E.OPCODE, 1002);
        }
      }
    }
  });

  void test('the fragment error is reported from the header alone', () => {
    const rec = pushHeaderOnly({ opcode: OP.TEXT }, 5, CLIENT, [buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false })]);
    assertOnlyError(rec.events, E.OPCODE, 1002);
  });
});

void describe('messages assembled from pieces: the last frame is gathered into the message buffer', () => {
  for (const role of ROLES) {
    void test(`${role.name}: every cut, and pairs of cuts, give the same messages (default unmasking)`, () => {
      const { stream, expected } = assemblyStream(role.mask);
      for (const cuts of everyCut(stream.length, 23)) assert.deepEqual(feedCuts(stream, role.opts, cuts), expected, `cuts ${cuts.join(', ')}`);
    });
  }

  void test('masked pieces that are gathered go through maskCopy with their payload offset and place in the message', () => {
    const copies: Array<[number, number, number]> = [];
    const opts: ReceiverOptions = {
      expectMasked: true,
      maskCopy: (source, target, targetStart, key, offset = 0) => {
        copies.push([offset, source.length, targetStart]);
        for (let i = 0; i < source.length; i++) target[targetStart + i] = source[i]! ^ key[(offset + i) & 3]!;
      },
    };
    const first = pattern(1000, 1);
    const last = pattern(3000, 2);
    const stream = concat(
      buildFrame({ opcode: OP.BINARY, payload: first, fin: false, mask: Uint8Array.of(5, 6, 7, 8) }),
      buildFrame({ opcode: OP.CONT, payload: last, mask: true }),
    );
    // The last frame's header ends at 1008 + 8; its payload comes as 1000, 1 and 1999 bytes.
    const start = 1008 + 8;
    assert.deepEqual(feedCuts(stream, opts, [start + 1000, start + 1001]), [ev.binary(concat(first, last))]);
    // 2000 bytes of the last frame still to come after its first piece: gathered from there on.
    assert.deepEqual(copies, [[0, 1000, 1000], [1000, 1, 2000], [1001, 1999, 2001]]);
  });

  void test('a whole message in one chunk is still unmasked in place and handed on as a view (no maskCopy, no allocation)', () => {
    let copies = 0;
    const allocated: number[] = [];
    const opts: ReceiverOptions = { expectMasked: true, maskCopy: () => { copies++; }, allocate: (n) => { allocated.push(n); return new Uint8Array(n); } };
    const payload = pattern(5000, 3);
    assert.deepEqual(feed(buildFrame({ opcode: OP.BINARY, payload, mask: true }), opts), [ev.binary(payload)]);
    assert.equal(copies, 0);
    assert.deepEqual(allocated, []);
  });

  /**
   * Feeds one masked binary message of `size` bytes in socket-sized chunks (each in memory of its
   * own) up to `holdBack` bytes before its end; `rest()` sends those.
   */
  function feedAllBut(size: number, holdBack: number): { payload: Uint8Array; allocated: number[]; rec: Recorder; rest: () => void } {
    const allocated: number[] = [];
    const payload = pattern(size, size & 0xff);
    const frame = buildFrame({ opcode: OP.BINARY, payload, mask: true });
    const { rec, rx } = makeReceiver({ expectMasked: true, allocate: (n) => { allocated.push(n); return new Uint8Array(n); } });
    const stop = frame.length - holdBack;
    for (let at = 0; at < stop; at += 65_536) rx.push(frame.slice(at, Math.min(at + 65_536, stop)));
    return { payload, allocated, rec, rest: () => rx.push(frame.slice(stop)) };
  }

  void test('nothing of the message size is allocated while more than 64 KiB of it are still to come (bad-input guide §11)', () => {
    // 128 KiB, the largest message that is gathered ahead of its end.
    const { payload, allocated, rec, rest } = feedAllBut(131_072, 65_537);
    assert.ok(!allocated.includes(131_072), `allocated ${allocated.join(', ')} with 65,537 bytes to come`);
    rest();
    assert.deepEqual(rec.events, [ev.binary(payload)]);
    assert.equal(allocated.filter((n) => n === 131_072).length, 1);
  });

  void test('a message over 128 KiB gets its buffer only once its last byte is in (GATHER_MAX: the previous buffer is then reusable)', () => {
    const { payload, allocated, rec, rest } = feedAllBut(1_000_000, 1);
    assert.ok(!allocated.includes(1_000_000), `allocated ${allocated.join(', ')} with one byte to come`);
    assert.deepEqual(rec.events, []);
    rest();
    assert.deepEqual(rec.events, [ev.binary(payload)]);
    assert.equal(allocated.filter((n) => n === 1_000_000).length, 1);
  });

  void test('a large message in one frame is unmasked while it is assembled: every piece through maskCopy once, none in place', () => {
    const inPlace: number[] = [];
    const copies: Array<[number, number]> = [];
    const opts: ReceiverOptions = {
      expectMasked: true,
      mask: (data, key, offset = 0, start = 0, end = data.length) => {
        inPlace.push(end - start);
        for (let i = start; i < end; i++) data[i] = data[i]! ^ key[(offset + i - start) & 3]!;
      },
      maskCopy: (source, target, targetStart, key, offset = 0) => {
        copies.push([targetStart, offset]);
        for (let i = 0; i < source.length; i++) target[targetStart + i] = source[i]! ^ key[(offset + i) & 3]!;
      },
    };
    const payload = pattern(300_001, 8);
    const frame = buildFrame({ opcode: OP.BINARY, payload, mask: Uint8Array.of(0x11, 0x22, 0x33, 0x44) });
    // Socket-sized chunks, each in memory of its own: the header and 65,522 bytes, then 64 KiB
    // pieces at payload offsets that are not multiples of 4.
    const { rec, rx } = makeReceiver(opts);
    let chunks = 0;
    for (let at = 0; at < frame.length; at += 65_536, chunks++) rx.push(frame.slice(at, at + 65_536));
    assert.deepEqual(rec.events, [ev.binary(payload)]);
    assert.deepEqual(inPlace, [], 'nothing unmasked in place');
    assert.equal(copies.length, chunks, 'one maskCopy per piece');
    for (const [targetStart, offset] of copies) assert.equal(offset, targetStart, 'a byte\'s key phase is its place in the message');
  });

  void test('large messages in one frame, any chunking: the same bytes as a reference (binary, unchecked text, compressed)', () => {
    const rng = prng(77);
    const cases: Array<{ spec: FrameSpec; opts: ReceiverOptions; event: (p: Uint8Array) => Event }> = [
      { spec: { opcode: OP.BINARY, payload: '' }, opts: SERVER, event: (p) => ev.binary(p) },
      { spec: { opcode: OP.TEXT, payload: '' }, opts: { expectMasked: true, skipUtf8Validation: true }, event: (p) => ({ kind: 'message', data: p, isBinary: false, compressed: false }) },
      { spec: { opcode: OP.BINARY, payload: '', rsv1: true }, opts: { expectMasked: true, allowRsv1: true }, event: (p) => ({ kind: 'message', data: p, isBinary: true, compressed: true }) },
    ];
    for (const { spec, opts, event } of cases) {
      for (let round = 0; round < 6; round++) {
        const payload = rng.bytes(131_073 + rng.int(200_000));
        const frame = buildFrame({ ...spec, payload, mask: rng.bytes(4) });
        // Pieces from 1 byte to 80 KiB, so small ones are copied together and large ones kept as views.
        const cuts: number[] = [];
        for (let at = rng.int(20); at < frame.length; at += 1 + (rng.next() < 0.3 ? rng.int(64) : rng.int(80_000))) cuts.push(at);
        const tail = buildFrame({ opcode: OP.BINARY, payload: 'after', mask: true });
        assert.deepEqual(feedCuts(concat(frame, tail), opts, cuts.filter((c) => c > 0)), [event(payload), ev.binary(bytes('after'))], `round ${round}`);
      }
    }
  });

  void test('a large text message is still checked as it arrives: invalid UTF-8 in its first piece fails there (1007)', () => {
    const payload = new Uint8Array(1_000_000).fill(0x61);
    payload[10] = 0xff;
    const frame = buildFrame({ opcode: OP.TEXT, payload, mask: true });
    const { rec, rx } = makeReceiver(SERVER);
    rx.push(frame.slice(0, 65_536));
    assertOnlyError(rec.events, E.UTF8, 1007, rec);
  });

  void test('a large fragmented message keeps each frame\'s own key', () => {
    const a = pattern(200_000, 9);
    const b = pattern(150_000, 10);
    const stream = concat(
      buildFrame({ opcode: OP.BINARY, payload: a, fin: false, mask: Uint8Array.of(1, 2, 3, 4) }),
      buildFrame({ opcode: OP.CONT, payload: b, mask: Uint8Array.of(5, 6, 7, 8) }),
    );
    const cuts: number[] = [];
    for (let at = 65_536; at < stream.length; at += 65_536) cuts.push(at);
    assert.deepEqual(feedCuts(stream, SERVER, cuts), [ev.binary(concat(a, b))]);
  });

  void test('invalid UTF-8 in a gathered piece fails with 1007 in that piece', () => {
    const good = bytes('a'.repeat(600));
    const payload = concat(good, bytes([0xc0, 0x80]), good);
    const frame = buildFrame({ opcode: OP.TEXT, payload, mask: true });
    const { rec, rx } = makeReceiver(SERVER);
    rx.push(frame.slice(0, 8 + 700));
    assert.deepEqual(rec.events, [ev.error(E.UTF8, 1007)]);
  });
});

void describe('RFC 6455 §5.5 control frames', () => {
  void test('125-byte ping and pong are accepted', () => {
    const p = pattern(125);
    assert.deepEqual(feed(buildFrame({ opcode: OP.PING, payload: p, mask: true }), SERVER), [{ kind: 'ping', data: p }]);
    assert.deepEqual(feed(buildFrame({ opcode: OP.PONG, payload: p }), CLIENT), [{ kind: 'pong', data: p }]);
  });

  void test('control frame over 125 bytes → WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH 1002, from the header alone', () => {
    for (const opcode of [OP.PING, OP.PONG, OP.CLOSE]) {
      assertOnlyError(feed(buildFrame({ opcode, payload: pattern(126) }), CLIENT), E.CONTROL_LENGTH, 1002);
      assertOnlyError(pushHeaderOnly({ opcode, mask: true }, 126, SERVER).events, E.CONTROL_LENGTH, 1002);
      assertOnlyError(pushHeaderOnly({ opcode }, 65536, CLIENT).events, E.CONTROL_LENGTH, 1002);
      // A small length written in the 16-bit form still says 126 in the 7-bit field.
      assertOnlyError(feed(buildFrame({ opcode, payload: [0x03, 0xe8], lengthForm: 16 }), CLIENT), E.CONTROL_LENGTH, 1002);
    }
  });

  void test('fragmented control frame → WS_ERR_EXPECTED_FIN 1002', () => {
    for (const opcode of [OP.PING, OP.PONG, OP.CLOSE]) {
      assertOnlyError(feed(buildFrame({ opcode, payload: 'x', fin: false, mask: true }), SERVER), E.FIN, 1002);
      assertOnlyError(feed(buildFrame({ opcode, fin: false }), CLIENT), E.FIN, 1002);
    }
  });

  void test('control frame payload split across chunks is assembled (and not mixed with the next one)', () => {
    const a = pattern(125, 1);
    const b = pattern(60, 2);
    const stream = concat(
      buildFrame({ opcode: OP.PING, payload: a, mask: true }),
      buildFrame({ opcode: OP.PONG, payload: b, mask: Uint8Array.of(9, 8, 7, 6) }),
    );
    const want: Event[] = [{ kind: 'ping', data: a }, { kind: 'pong', data: b }];
    assert.deepEqual(feedBytewise(stream, SERVER), want);
    for (const k of [3, 6, 7, 50, 130, 131, 140, 180]) assert.deepEqual(feedCuts(stream, SERVER, [k]), want, `cut ${k}`);
  });

  void test('control frames are not counted against maxPayload of the message', () => {
    const opts = { expectMasked: false, maxPayload: 10 };
    assert.deepEqual(feed(buildFrame({ opcode: OP.PING, payload: pattern(100) }), opts), [{ kind: 'ping', data: pattern(100) }]);
  });
});

void describe('RFC 6455 §5.5.1 close', () => {
  const close = (payload: readonly number[] | Uint8Array, mask = false): Uint8Array => buildFrame({ opcode: OP.CLOSE, payload, mask });
  const codeBytes = (code: number): number[] => [code >>> 8, code & 0xff];

  void test('empty payload → onClose(1005, empty reason)', () => {
    const { rec, rx } = makeReceiver(CLIENT);
    rx.push(close([]));
    assert.deepEqual(rec.events, [ev.close(1005)]);
    assert.equal(rx.stopped, true);
  });

  void test('1-byte payload → WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH 1002', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.push(close([0x03], true));
    assertOnlyError(rec.events, E.CONTROL_LENGTH, 1002, rec);
  });

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    void test(`invalid close code ${code} → WS_ERR_INVALID_CLOSE_CODE 1002`, () => {
      assertOnlyError(feed(close(codeBytes(code)), CLIENT), E.CLOSE, 1002);
      assertOnlyError(feed(close([...codeBytes(code), 0x6f, 0x6b], true), SERVER), E.CLOSE, 1002);
    });
  }

  void test('valid close codes 1000–1003, 1007–1014, 3000, 4999 are accepted', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999]) {
      assert.deepEqual(feed(close(codeBytes(code)), CLIENT), [ev.close(code)], `code ${code}`);
      assert.deepEqual(feed(close([...codeBytes(code), ...bytes('why ✓')], true), SERVER), [ev.close(code, 'why ✓')], `code ${code} with reason`);
    }
  });

  void test('largest close frame (code + 123-byte reason) is accepted', () => {
    const reason = 'r'.repeat(121) + 'é';
    assert.equal(bytes(reason).length, 123);
    assert.deepEqual(feed(close([...codeBytes(1000), ...bytes(reason)]), CLIENT), [ev.close(1000, reason)]);
  });

  for (const [label, bad] of [
    ['lone continuation byte', [0x80]],
    ['overlong', [0xc0, 0x80]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['truncated sequence', [0x61, 0xe2, 0x82]],
    ['byte FF', [0xff]],
  ] as const) {
    void test(`reason with invalid UTF-8 (${label}) → WS_ERR_INVALID_UTF8 1007`, () => {
      assertOnlyError(feed(close([...codeBytes(1000), ...bad]), CLIENT), E.UTF8, 1007);
      const fatal = new TextDecoder('utf-8', { fatal: true });
      const fast = (b: Uint8Array): boolean => {
        try {
          fatal.decode(b);
          return true;
        } catch {
          return false;
        }
      };
      assertOnlyError(feed(close([...codeBytes(1000), ...bad]), { expectMasked: false, utf8: fast }), E.UTF8, 1007);
    });
  }

  void test('data after the close frame is ignored (same chunk and later chunks)', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.push(
      concat(
        buildFrame({ opcode: OP.TEXT, payload: 'before', mask: true }),
        close([...codeBytes(1000), ...bytes('done')], true),
        buildFrame({ opcode: OP.TEXT, payload: 'after', mask: true }),
        bytes([0xff, 0xff, 0xff]), // garbage that would be an error if parsed
      ),
    );
    rx.push(buildFrame({ opcode: OP.PING, payload: 'late', mask: true }));
    rx.push(bytes([0x00, 0x00]));
    assert.deepEqual(rec.events, [ev.text('before'), ev.close(1000, 'done')]);
    assert.equal(rx.stopped, true);
  });

  void test('close payload split across chunks', () => {
    const frame = close([...codeBytes(4001), ...bytes('split reason')], true);
    for (let k = 1; k < frame.length; k++) {
      assert.deepEqual(feedCuts(frame, SERVER, [k]), [ev.close(4001, 'split reason')], `cut ${k}`);
    }
  });
});

void describe('RFC 6455 §5.2/§10.4 length limits', () => {
  void test('64-bit length with the top bit set → WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH 1009 from the header alone, nothing allocated', () => {
    for (const maxPayload of [0, 1024, undefined]) {
      let allocations = 0;
      const opts: ReceiverOptions = {
        expectMasked: true,
        maxPayload,
        allocate: (n) => {
          allocations++;
          return new Uint8Array(n);
        },
      };
      const { rec, rx } = makeReceiver(opts);
      rx.push(buildHeader({ opcode: OP.BINARY, mask: true, declaredLength: 0x8000000000000000n }, 0));
      assertOnlyError(rec.events, E.LENGTH, 1009, rec);
      assert.equal(allocations, 0);
      rx.push(pattern(100));
      assert.equal(rec.events.length, 1, 'nothing parsed after the error');
    }
  });

  void test('64-bit length 2^64-1 and 2^53 are rejected; 2^53-1 passes the header check when unlimited', () => {
    assertOnlyError(pushHeaderOnly({ opcode: OP.BINARY, declaredLength: 0xffffffffffffffffn }, 0, { expectMasked: false, maxPayload: 0 }).events, E.LENGTH, 1009);
    assertOnlyError(pushHeaderOnly({ opcode: OP.BINARY, declaredLength: 2n ** 53n }, 0, { expectMasked: false, maxPayload: 0 }).events, E.LENGTH, 1009);
    const { rec, rx } = makeReceiver({ expectMasked: false, maxPayload: 0 });
    rx.push(buildHeader({ opcode: OP.BINARY, declaredLength: 2n ** 53n - 1n }, 0));
    rx.push(pattern(1000));
    assert.deepEqual(rec.events, []);
    assert.equal(rx.stopped, false);
  });

  // Fail fast (bad-input guide §11): a hostile length is refused as soon as its bytes are in,
  // not once the peer has chosen to send the masking key. Plain byte arrays, one byte a push.
  void describe('a hostile length is refused as soon as the length bytes are in, before the masking key', () => {
    /** Pushes `header` one byte at a time; returns after how many bytes the receiver stopped (or -1). */
    const stoppedAfter = (header: number[], options: ReceiverOptions): { at: number; events: Event[] } => {
      const { rec, rx } = makeReceiver(options);
      for (let i = 0; i < header.length; i++) {
        rx.push(Uint8Array.of(header[i]!));
        if (rx.stopped) return { at: i + 1, events: rec.events };
      }
      return { at: -1, events: rec.events };
    };

    void test('64-bit length with the most significant bit set (RFC 6455 §5.2): refused at its 8th length byte', () => {
      const r = stoppedAfter([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], { expectMasked: true, maxPayload: 0 });
      assert.equal(r.at, 10);
      assertOnlyError(r.events, E.LENGTH, 1009);
    });

    void test('64-bit length of 2^53 (too big for any limit): refused at its 8th length byte', () => {
      const r = stoppedAfter([0x82, 0xff, 0, 0x20, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], { expectMasked: true, maxPayload: 0 });
      assert.equal(r.at, 10);
      assertOnlyError(r.events, E.LENGTH, 1009);
    });

    void test('a length over maxPayload, in each length form: refused at its last length byte', () => {
      const options = { expectMasked: true, maxPayload: 100 };
      const cases: Array<[number[], number]> = [
        [[0x82, 0x80 | 101, 1, 2, 3, 4], 2],
        [[0x82, 0x80 | 126, 0x01, 0x00, 1, 2, 3, 4], 4],
        [[0x82, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4], 10],
      ];
      for (const [header, at] of cases) {
        const r = stoppedAfter(header, options);
        assert.equal(r.at, at, header.join());
        assertOnlyError(r.events, E.TOO_BIG, 1009);
      }
    });

    void test('a masked length at maxPayload is not refused: the frame waits for its key and is read', () => {
      const payload = pattern(100);
      const frame = buildFrame({ opcode: OP.BINARY, mask: true, payload, lengthForm: 16 });
      const { rec, rx } = makeReceiver({ expectMasked: true, maxPayload: 100 });
      for (const b of frame) rx.push(Uint8Array.of(b));
      assert.deepEqual(rec.events, [ev.binary(payload)]);
    });

    void test('a masked frame at a client (or another header error) is also refused before any key byte', () => {
      const r = stoppedAfter([0x82, 0xfe, 0x00, 0x10, 1, 2, 3, 4], { expectMasked: false });
      assert.equal(r.at, 4);
      assertOnlyError(r.events, E.UNEXPECTED_MASK, 1002);
    });
  });

  void test('length over maxPayload → WS_ERR_UNSUPPORTED_MESSAGE_LENGTH 1009 right after the header', () => {
    for (const [n, form] of [[101, 7], [1001, 16], [70000, 64]] as const) {
      const max = n - 1;
      const rec = pushHeaderOnly({ opcode: OP.TEXT, mask: true, lengthForm: form }, n, { expectMasked: true, maxPayload: max });
      assertOnlyError(rec.events, E.TOO_BIG, 1009);
    }
  });

  void test('default maxPayload (100 MiB) applies when none is given', () => {
    const over = 100 * 1024 * 1024 + 1;
    assertOnlyError(pushHeaderOnly({ opcode: OP.BINARY }, over, CLIENT).events, E.TOO_BIG, 1009);
    const { rec, rx } = makeReceiver(CLIENT);
    rx.push(buildHeader({ opcode: OP.BINARY }, over - 1));
    assert.deepEqual(rec.events, []);
    assert.equal(rx.stopped, false);
  });

  void test('payload exactly at maxPayload is accepted, one more byte is not', () => {
    for (const n of [125, 126, 65535, 65536]) {
      const opts = { expectMasked: true, maxPayload: n };
      assert.deepEqual(feed(buildFrame({ opcode: OP.BINARY, payload: pattern(n), mask: true }), opts), [ev.binary(pattern(n))], `length ${n}`);
      assertOnlyError(feed(buildFrame({ opcode: OP.BINARY, payload: pattern(n + 1), mask: true }), opts), E.TOO_BIG, 1009);
    }
  });

  void test('maxPayload counts the whole fragmented message; error at the header of the frame that crosses it', () => {
    const opts = { expectMasked: false, maxPayload: 10 };
    const ok = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'abcd', fin: false }),
      buildFrame({ opcode: OP.CONT, payload: 'efgh', fin: false }),
      buildFrame({ opcode: OP.CONT, payload: 'ij' }),
      buildFrame({ opcode: OP.TEXT, payload: '0123456789' }), // the count starts again per message
    );
    assert.deepEqual(feed(ok, opts), [ev.text('abcdefghij'), ev.text('0123456789')]);
    const rec = pushHeaderOnly({ opcode: OP.CONT }, 3, opts, [
      buildFrame({ opcode: OP.TEXT, payload: 'abcd', fin: false }),
      buildFrame({ opcode: OP.CONT, payload: 'efgh', fin: false }),
    ]);
    assertOnlyError(rec.events, E.TOO_BIG, 1009);
  });

  void test('maxPayload 0 means no limit', () => {
    const p = pattern(200000);
    assert.deepEqual(feed(buildFrame({ opcode: OP.BINARY, payload: p }), { expectMasked: false, maxPayload: 0 }), [ev.binary(p)]);
  });

  void test('maxFragments: exactly the limit is accepted, one more frame → WS_ERR_TOO_MANY_BUFFERED_PARTS 1009', () => {
    const build = (frames: number): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < frames; i++) {
        out.push(buildFrame({ opcode: i === 0 ? OP.BINARY : OP.CONT, payload: [i], fin: i === frames - 1, mask: true }));
      }
      return out;
    };
    const opts = { expectMasked: true, maxFragments: 4 };
    assert.deepEqual(feed(concat(...build(4)), opts), [ev.binary([0, 1, 2, 3])]);
    // Five frames: the error comes at the fifth header, before its payload.
    const five = build(5);
    const head = five.slice(0, 4);
    const rec = pushHeaderOnly({ opcode: OP.CONT, mask: true }, 1, opts, head);
    assertOnlyError(rec.events, E.FRAGMENTS, 1009);
    assertOnlyError(feed(concat(...five), opts), E.FRAGMENTS, 1009);
  });

  void test('maxFragments counts per message and ignores unfragmented messages', () => {
    const opts = { expectMasked: false, maxFragments: 2 };
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'a' }),
      buildFrame({ opcode: OP.TEXT, payload: 'b' }),
      buildFrame({ opcode: OP.TEXT, payload: 'c', fin: false }),
      buildFrame({ opcode: OP.PING }), // control frames are not fragments
      buildFrame({ opcode: OP.CONT, payload: 'd' }),
      buildFrame({ opcode: OP.BINARY, payload: [1], fin: false }),
      buildFrame({ opcode: OP.CONT, payload: [2] }),
    );
    assert.deepEqual(feed(stream, opts), [ev.text('a'), ev.text('b'), ev.ping(), ev.text('cd'), ev.binary([1, 2])]);
  });

  void test('maxFragments 0 means no limit', () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 70000; i++) frames.push(buildFrame({ opcode: i === 0 ? OP.BINARY : OP.CONT, fin: i === 69999 }));
    assert.deepEqual(feed(concat(...frames), { expectMasked: false, maxFragments: 0 }), [ev.binary([])]);
  });

  void test('the default maxFragments applies when none is given', () => {
    const limit = Defaults.maxFragments;
    assert.ok(limit > 0);
    // limit + 1 empty binary fragments, written straight into one buffer: 0x02 0x00, then 0x00 0x00.
    const stream = new Uint8Array(2 * (limit + 1));
    stream[0] = 0x02;
    const { rec, rx } = makeReceiver(CLIENT);
    rx.push(stream.subarray(0, 2 * limit));
    assert.deepEqual(rec.events, [], 'exactly the default number of fragments is accepted');
    rx.push(stream.subarray(2 * limit));
    assertOnlyError(rec.events, E.FRAGMENTS, 1009, rec);
  });
});

void describe('RFC 6455 §8.1 UTF-8 in text messages', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const fast = (b: Uint8Array): boolean => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  const variants: Array<[string, ReceiverOptions]> = [
    ['streaming validator', CLIENT],
    ['with a fast whole-buffer check', { expectMasked: false, utf8: fast }],
  ];

  const valid = 'a é € 😀 ߿ ࠀ ￿ 𐀀 \u{10ffff} z'; // 1-, 2-, 3- and 4-byte forms and their edges

  for (const [name, opts] of variants) {
    void test(`${name}: valid multi-byte text in one frame`, () => {
      assert.deepEqual(feed(buildFrame({ opcode: OP.TEXT, payload: valid }), opts), [ev.text(valid)]);
      const long = 'ü'.repeat(100) + valid + '€'.repeat(50);
      assert.deepEqual(feed(buildFrame({ opcode: OP.TEXT, payload: long }), opts), [ev.text(long)]);
    });

    void test(`${name}: valid text split across two fragments at every byte position`, () => {
      const b = bytes(valid);
      for (let k = 0; k <= b.length; k++) {
        const stream = concat(
          buildFrame({ opcode: OP.TEXT, payload: b.subarray(0, k), fin: false }),
          buildFrame({ opcode: OP.CONT, payload: b.subarray(k) }),
        );
        assert.deepEqual(feed(stream, opts), [ev.text(valid)], `split at ${k}`);
      }
    });

    void test(`${name}: 4-byte code point split across three and four fragments at every position`, () => {
      const b = bytes('x😀y');
      for (let i = 1; i < b.length; i++) {
        for (let j = i; j < b.length; j++) {
          const stream = concat(
            buildFrame({ opcode: OP.TEXT, payload: b.subarray(0, i), fin: false }),
            buildFrame({ opcode: OP.CONT, payload: b.subarray(i, j), fin: false }),
            buildFrame({ opcode: OP.CONT, payload: b.subarray(j) }),
          );
          assert.deepEqual(feed(stream, opts), [ev.text('x😀y')], `splits at ${i}, ${j}`);
        }
      }
      const four = concat(...[...b].map((x, i) => buildFrame({ opcode: i === 0 ? OP.TEXT : OP.CONT, payload: [x], fin: i === b.length - 1 })));
      assert.deepEqual(feed(four, opts), [ev.text('x😀y')]);
    });

    void test(`${name}: valid long text split across chunks inside one frame at every position`, () => {
      const text = 'αβγ'.repeat(30) + '😀'.repeat(20);
      const frame = buildFrame({ opcode: OP.TEXT, payload: text, mask: true });
      for (let k = 1; k < frame.length; k++) {
        assert.deepEqual(feedCuts(frame, { ...opts, expectMasked: true }, [k]), [ev.text(text)], `cut ${k}`);
      }
    });

    for (const [label, bad] of [
      ['overlong C0 80', [0xc0, 0x80]],
      ['overlong C1 BF', [0xc1, 0xbf]],
      ['overlong E0 80 80', [0xe0, 0x80, 0x80]],
      ['overlong E0 9F BF', [0xe0, 0x9f, 0xbf]],
      ['overlong F0 80 80 80', [0xf0, 0x80, 0x80, 0x80]],
      ['overlong F0 8F BF BF', [0xf0, 0x8f, 0xbf, 0xbf]],
      ['surrogate ED A0 80', [0xed, 0xa0, 0x80]],
      ['surrogate ED BF BF', [0xed, 0xbf, 0xbf]],
      ['above U+10FFFF F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]],
      ['F5', [0xf5, 0x80, 0x80, 0x80]],
      ['F8', [0xf8, 0x88, 0x80, 0x80, 0x80]],
      ['FE', [0xfe]],
      ['FF', [0xff]],
      ['lone continuation 80', [0x80]],
      ['lone continuation BF', [0xbf]],
      ['lead followed by ASCII', [0xc3, 0x41]],
      ['3-byte lead with one continuation then ASCII', [0xe2, 0x82, 0x41]],
      ['truncated at message end (2-byte)', [0x61, 0xc3]],
      ['truncated at message end (3-byte)', [0x61, 0xe2, 0x82]],
      ['truncated at message end (4-byte)', [0x61, 0xf0, 0x9f, 0x98]],
    ] as const) {
      void test(`${name}: ${label} → WS_ERR_INVALID_UTF8 1007`, () => {
        const payload = bytes([0x61, 0x62, ...bad]);
        assertOnlyError(feed(buildFrame({ opcode: OP.TEXT, payload }), opts), E.UTF8, 1007);
        // Long enough for the fast path, with the bad bytes at the end.
        const longPayload = concat(bytes('é'.repeat(60)), payload);
        assertOnlyError(feed(buildFrame({ opcode: OP.TEXT, payload: longPayload }), opts), E.UTF8, 1007);
        // Same bytes as the tail of a fragmented message.
        const stream = concat(buildFrame({ opcode: OP.TEXT, payload: 'ok', fin: false }), buildFrame({ opcode: OP.CONT, payload }));
        assertOnlyError(feed(stream, opts), E.UTF8, 1007);
      });
    }

    void test(`${name}: all of F5..FF are rejected`, () => {
      for (let b = 0xf5; b <= 0xff; b++) {
        assertOnlyError(feed(buildFrame({ opcode: OP.TEXT, payload: [b] }), opts), E.UTF8, 1007);
      }
    });

    void test(`${name}: invalid byte in the first fragment (fin=0) is reported after feeding only that fragment`, () => {
      const { rec, rx } = makeReceiver(opts);
      rx.push(buildFrame({ opcode: OP.TEXT, payload: [0x61, 0xed, 0xa0, 0x80, 0x62], fin: false }));
      assertOnlyError(rec.events, E.UTF8, 1007, rec);
      // Also when the bad bytes sit past the first 64 bytes of a long fragment.
      const { rec: rec2, rx: rx2 } = makeReceiver(opts);
      rx2.push(buildFrame({ opcode: OP.TEXT, payload: concat(bytes('a'.repeat(100)), bytes([0xc0, 0x80]), bytes('b'.repeat(100))), fin: false }));
      assertOnlyError(rec2.events, E.UTF8, 1007, rec2);
      // And a fragment that ends in a lead byte whose next byte can never follow it.
      const { rec: rec3, rx: rx3 } = makeReceiver(opts);
      rx3.push(buildFrame({ opcode: OP.TEXT, payload: [0x61, 0xe0, 0x80], fin: false }));
      assertOnlyError(rec3.events, E.UTF8, 1007, rec3);
    });

    void test(`${name}: single frame in 3 chunks with invalid bytes in the second chunk is reported after the second chunk`, () => {
      const payload = concat(bytes('x'.repeat(80)), bytes([0xf4, 0x90, 0x80, 0x80]), bytes('y'.repeat(80)));
      const frame = buildFrame({ opcode: OP.TEXT, payload, mask: true });
      const headerLen = frame.length - payload.length;
      const { rec, rx } = makeReceiver({ ...opts, expectMasked: true });
      rx.push(frame.slice(0, headerLen + 40));
      assert.deepEqual(rec.events, [], 'first chunk is valid so far');
      rx.push(frame.slice(headerLen + 40, headerLen + 120));
      assertOnlyError(rec.events, E.UTF8, 1007, rec);
      rx.push(frame.slice(headerLen + 120));
      assert.equal(rec.events.length, 1);
    });

    void test(`${name}: a code point split across fragments is rejected as soon as it turns out invalid`, () => {
      const { rec, rx } = makeReceiver(opts);
      rx.push(buildFrame({ opcode: OP.TEXT, payload: [0x61, 0xf0], fin: false }));
      assert.deepEqual(rec.events, []);
      rx.push(buildFrame({ opcode: OP.CONT, payload: [0x8f], fin: false })); // F0 8F: overlong
      assertOnlyError(rec.events, E.UTF8, 1007, rec);
    });
  }

  void test('skipUtf8Validation delivers invalid text but still checks close reasons', () => {
    const opts = { expectMasked: false, skipUtf8Validation: true };
    const raw = bytes([0x61, 0xed, 0xa0, 0x80, 0xc3]); // surrogate, then truncated at the end
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: raw }),
      buildFrame({ opcode: OP.TEXT, payload: [0xff], fin: false }),
      buildFrame({ opcode: OP.CONT, payload: [0xe2] }),
      buildFrame({ opcode: OP.TEXT, payload: 'ok' }),
    );
    assert.deepEqual(feed(stream, opts), [
      { kind: 'message', data: raw, isBinary: false, compressed: false },
      { kind: 'message', data: bytes([0xff, 0xe2]), isBinary: false, compressed: false },
      ev.text('ok'),
    ]);
    assertOnlyError(feed(buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe8, 0xff] }), opts), E.UTF8, 1007);
  });

  void test('binary messages are not UTF-8 checked', () => {
    const raw = bytes([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xff]);
    assert.deepEqual(feed(buildFrame({ opcode: OP.BINARY, payload: raw }), CLIENT), [ev.binary(raw)]);
  });

  void test('a text message after a valid one starts with fresh UTF-8 state', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: '€', fin: false }),
      buildFrame({ opcode: OP.CONT, payload: '😀' }),
      buildFrame({ opcode: OP.BINARY, payload: [0xe0] }), // a binary message never touches the validator
      buildFrame({ opcode: OP.TEXT, payload: [0xe1, 0x80, 0x80] }),
    );
    assert.deepEqual(feed(stream, CLIENT), [ev.text('€😀'), ev.binary([0xe0]), ev.text('\u1000')]);
  });
});

void describe('flow control: pause() and resume()', () => {
  const frames = [
    buildFrame({ opcode: OP.TEXT, payload: 'one', mask: true }),
    buildFrame({ opcode: OP.BINARY, payload: pattern(300), mask: true }),
    buildFrame({ opcode: OP.PING, payload: 'ping', mask: true }),
    buildFrame({ opcode: OP.TEXT, payload: 'three', mask: true }),
  ];
  const all = concat(...frames);
  const expected: Event[] = [ev.text('one'), ev.binary(pattern(300)), ev.ping('ping'), ev.text('three')];

  void test('pause inside onMessage holds later frames of the same chunk until resume()', () => {
    let pauseNext = true;
    const { rec, rx } = makeReceiver(SERVER, {
      onMessage: (r) => {
        if (pauseNext) {
          pauseNext = false;
          r.receiver!.pause();
        }
      },
    });
    rx.push(all.slice());
    assert.deepEqual(rec.events, [ev.text('one')]);
    assert.equal(rx.paused, true);
    assert.equal(rx.queuedBytes, all.length - frames[0]!.length);

    // More bytes while paused are held too, behind the earlier ones.
    const extra = buildFrame({ opcode: OP.TEXT, payload: 'four', mask: true });
    rx.push(extra.slice());
    assert.deepEqual(rec.events, [ev.text('one')]);
    assert.equal(rx.queuedBytes, all.length - frames[0]!.length + extra.length);

    rx.resume();
    assert.equal(rx.paused, false);
    assert.equal(rx.queuedBytes, 0);
    assert.deepEqual(rec.events, [...expected, ev.text('four')]);
  });

  void test('pausing on every message and resuming one step at a time keeps the order', () => {
    const { rec, rx } = makeReceiver(SERVER, { onMessage: (r) => r.receiver!.pause(), onPing: (r) => r.receiver!.pause() });
    rx.push(all.slice());
    const seen: number[] = [rec.events.length];
    let guard = 0;
    while (rx.paused && guard++ < 10) {
      rx.resume();
      seen.push(rec.events.length);
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 4]);
    assert.deepEqual(rec.events, expected);
    assert.equal(rx.queuedBytes, 0);
  });

  void test('pause inside a ping in the middle of a fragmented message, then resume', () => {
    const stream = concat(
      buildFrame({ opcode: OP.TEXT, payload: 'ab', fin: false }),
      buildFrame({ opcode: OP.PING, payload: 'x' }),
      buildFrame({ opcode: OP.CONT, payload: 'cd' }),
    );
    const { rec, rx } = makeReceiver(CLIENT, { onPing: (r) => r.receiver!.pause() });
    rx.push(stream);
    assert.deepEqual(rec.events, [ev.ping('x')]);
    assert.equal(rx.queuedBytes, 4);
    rx.resume();
    assert.deepEqual(rec.events, [ev.ping('x'), ev.text('abcd')]);
  });

  void test('pause from outside holds every pushed chunk; resume delivers them in order', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.pause();
    let held = 0;
    for (const f of frames) {
      rx.push(f.slice(0, 2));
      rx.push(f.slice(2));
      held += f.length;
      assert.equal(rx.queuedBytes, held);
    }
    assert.deepEqual(rec.events, []);
    rx.resume();
    assert.deepEqual(rec.events, expected);
  });

  void test('pause then resume inside the same callback does not hold anything', () => {
    const { rec, rx } = makeReceiver(SERVER, {
      onMessage: (r) => {
        r.receiver!.pause();
        r.receiver!.resume();
      },
    });
    rx.push(all.slice());
    assert.deepEqual(rec.events, expected);
    assert.equal(rx.paused, false);
    assert.equal(rx.queuedBytes, 0);
  });

  void test('resume() when not paused is a no-op', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.resume();
    rx.push(all.slice());
    rx.resume();
    assert.deepEqual(rec.events, expected);
  });

  void test('destroy() stops parsing and drops held bytes', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.pause();
    rx.push(all.slice());
    assert.equal(rx.queuedBytes, all.length);
    rx.destroy();
    assert.equal(rx.stopped, true);
    assert.equal(rx.queuedBytes, 0);
    rx.resume();
    rx.push(all.slice());
    assert.deepEqual(rec.events, []);
  });

  // Regression: push() from inside a handler used to be processed at once (re-entrantly),
  // before the rest of the current chunk.
  void test(
    'push() from inside a handler keeps wire order',
    () => {
      let once = true;
      const { rec, rx } = makeReceiver(CLIENT, {
        onMessage: (r) => {
          if (once) {
            once = false;
            r.receiver!.push(buildFrame({ opcode: OP.TEXT, payload: 'C' }));
          }
        },
      });
      rx.push(concat(buildFrame({ opcode: OP.TEXT, payload: 'A' }), buildFrame({ opcode: OP.TEXT, payload: 'B' })));
      assert.deepEqual(rec.events, [ev.text('A'), ev.text('B'), ev.text('C')]);
    },
  );

  void test('an error while resuming drops what was held', () => {
    const { rec, rx } = makeReceiver(SERVER);
    rx.pause();
    rx.push(buildFrame({ opcode: OP.TEXT, payload: 'a', mask: true }));
    rx.push(buildFrame({ opcode: OP.TEXT, payload: 'b' })); // unmasked: error
    rx.push(buildFrame({ opcode: OP.TEXT, payload: 'c', mask: true }));
    rx.resume();
    assert.deepEqual(rec.events, [ev.text('a'), ev.error(E.EXPECTED_MASK, 1002)]);
    assert.equal(rx.queuedBytes, 0);
  });
});

void describe('Receiver construction', () => {
  void test('a receiver is a Receiver with stopped=false and paused=false initially', () => {
    const rx = new Receiver(new Recorder(), SERVER);
    assert.equal(rx.stopped, false);
    assert.equal(rx.paused, false);
    assert.equal(rx.queuedBytes, 0);
  });

  void test('one ReceiverConfig shared by several receivers: each keeps its own frame and message state', () => {
    const config = new ReceiverConfig({ expectMasked: true, maxPayload: 16 });
    assert.ok(Object.isFrozen(config));
    const a = new Recorder();
    const b = new Recorder();
    const rxA = new Receiver(a, config);
    const rxB = new Receiver(b, config);
    // Frames are unmasked in place: each push gets its own copy.
    const first = buildFrame({ opcode: OP.TEXT, fin: false, payload: bytes('ab'), mask: DEFAULT_KEY });
    const last = buildFrame({ opcode: OP.CONT, payload: bytes('cd'), mask: DEFAULT_KEY });
    // Interleaved halves of one fragmented message on each receiver, the second cut mid-header.
    rxA.push(first.slice());
    rxB.push(first.slice(0, 3));
    rxB.push(first.slice(3));
    rxA.push(last.slice());
    rxB.push(last.slice());
    rxA.push(buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(17), mask: DEFAULT_KEY }));
    assert.deepEqual(a.events, [ev.text('abcd'), ev.error(E.TOO_BIG, 1009)]);
    assert.deepEqual(b.events, [ev.text('abcd')]);
    assert.equal(rxB.stopped, false);
  });

  void test('the masking key in the header is the one used (not a fixed key)', () => {
    const payload = bytes('key check');
    const other = Uint8Array.of(1, 2, 3, 4);
    assert.notDeepEqual(other, DEFAULT_KEY);
    assert.deepEqual(feed(buildFrame({ opcode: OP.TEXT, payload, mask: other }), SERVER), [ev.text('key check')]);
  });
});
