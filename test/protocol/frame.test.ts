import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, encodeFrameHeader, frameHeaderSize, writeFrameHeader } from '../../src/protocol/frame.js';
import { DEFAULT_KEY, OP, buildFrame, buildHeader, bytes, concat, ev, feed, feedCuts, naiveMask, prng } from './helpers.js';

const SERVER = { expectMasked: true };
const CLIENT = { expectMasked: false };
const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 65537, 100000];

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 13 + (i >>> 9)) & 0xff;
  return out;
}

void describe('RFC 6455 §5.2 base framing: frame encoding', () => {
  void test('frameHeaderSize for every length class, masked and unmasked', () => {
    const table: Array<[number, number]> = [
      [0, 2], [1, 2], [125, 2], [126, 4], [127, 4], [65535, 4], [65536, 10], [2 ** 32, 10], [2 ** 53 - 1, 10],
    ];
    for (const [n, size] of table) {
      assert.equal(frameHeaderSize(n, false), size, `length ${n}`);
      assert.equal(frameHeaderSize(n, true), size + 4, `length ${n} masked`);
    }
  });

  void test('RFC 6455 §5.7 examples encode to the literal bytes', () => {
    assert.deepEqual(encodeFrame(OP.TEXT, bytes('Hello')), bytes([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    assert.deepEqual(
      encodeFrame(OP.TEXT, bytes('Hello'), { maskKey: DEFAULT_KEY }),
      bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
    );
    assert.deepEqual(encodeFrame(OP.TEXT, bytes('Hel'), { fin: false }), bytes([0x01, 0x03, 0x48, 0x65, 0x6c]));
    assert.deepEqual(encodeFrame(OP.CONT, bytes('lo')), bytes([0x80, 0x02, 0x6c, 0x6f]));
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 256), bytes([0x82, 0x7e, 0x01, 0x00]));
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 65536), bytes([0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]));
  });

  for (const n of LENGTHS) {
    void test(`encodeFrame, ${n}-byte payload: same bytes as the test builder and round-trips through a Receiver`, () => {
      const payload = pattern(n);
      const key = Uint8Array.of(0xa1, 0x02, 0xff, 0x7c);
      const unmasked = encodeFrame(OP.BINARY, payload);
      assert.deepEqual(unmasked, buildFrame({ opcode: OP.BINARY, payload }));
      assert.deepEqual(feed(unmasked, CLIENT), [ev.binary(payload)]);
      const masked = encodeFrame(OP.BINARY, payload, { maskKey: key });
      assert.deepEqual(masked, buildFrame({ opcode: OP.BINARY, payload, mask: key }));
      assert.deepEqual(feed(masked, SERVER), [ev.binary(payload)]);
      assert.deepEqual(payload, pattern(n), "the caller's payload is not modified by masking");
    });

    void test(`encodeFrameHeader, ${n}-byte payload: header + payload round-trips through a Receiver`, () => {
      const payload = pattern(n);
      const key = Uint8Array.of(0x10, 0x20, 0x30, 0x40);
      const h = encodeFrameHeader(OP.BINARY, n);
      assert.deepEqual(h, buildHeader({ opcode: OP.BINARY }, n));
      assert.deepEqual(feedCuts(concat(h, payload), CLIENT, [h.length]), [ev.binary(payload)]);
      const hm = encodeFrameHeader(OP.BINARY, n, { maskKey: key });
      assert.deepEqual(hm, buildHeader({ opcode: OP.BINARY, mask: key }, n));
      assert.deepEqual(feedCuts(concat(hm, naiveMask(payload, key)), SERVER, [hm.length]), [ev.binary(payload)]);
    });
  }

  void test('text, ping, pong and close frames round-trip, masked and unmasked', () => {
    const key = Uint8Array.of(1, 2, 3, 4);
    const stream = (maskKey?: Uint8Array): Uint8Array =>
      concat(
        encodeFrame(OP.TEXT, bytes('héllo '), { fin: false, maskKey }),
        encodeFrame(OP.PING, bytes('p'), { maskKey }),
        encodeFrame(OP.CONT, bytes('wörld'), { maskKey }),
        encodeFrame(OP.PONG, new Uint8Array(0), { maskKey }),
        encodeFrame(OP.CLOSE, bytes([0x0f, 0xa0, 0x6f, 0x6b]), { maskKey }),
      );
    const want = [ev.ping('p'), ev.text('héllo wörld'), ev.pong(), ev.close(4000, 'ok')];
    assert.deepEqual(feed(stream(), CLIENT), want);
    assert.deepEqual(feed(stream(key), SERVER), want);
  });

  void test('fin=false and rsv1 set the right bits in the first header byte', () => {
    const cases: Array<[boolean, boolean, number, number]> = [
      [true, false, OP.TEXT, 0x81],
      [false, false, OP.TEXT, 0x01],
      [true, true, OP.TEXT, 0xc1],
      [false, true, OP.BINARY, 0x42],
      [true, false, OP.CONT, 0x80],
      [false, false, OP.CONT, 0x00],
      [true, false, OP.CLOSE, 0x88],
      [true, false, OP.PING, 0x89],
      [true, false, OP.PONG, 0x8a],
    ];
    for (const [fin, rsv1, opcode, b0] of cases) {
      assert.equal(encodeFrame(opcode, bytes('x'), { fin, rsv1 })[0], b0, `fin=${fin} rsv1=${rsv1} opcode=${opcode}`);
      assert.equal(encodeFrameHeader(opcode, 1, { fin, rsv1 })[0], b0);
    }
    const defaults = encodeFrame(OP.BINARY, bytes('x'));
    assert.equal(defaults[0], 0x82, 'defaults: fin set, rsv1 clear');
    assert.equal(defaults[1], 0x01, 'defaults: unmasked');
  });

  void test('rsv1 frames are accepted as compressed by a receiver with allowRsv1', () => {
    const stream = concat(
      encodeFrame(OP.TEXT, bytes([1, 2]), { rsv1: true, fin: false }),
      encodeFrame(OP.CONT, bytes([3])),
    );
    assert.deepEqual(feed(stream, { expectMasked: false, allowRsv1: true }), [
      { kind: 'message', data: bytes([1, 2, 3]), isBinary: false, compressed: true },
    ]);
  });

  void test('the mask bit and key are written after the length', () => {
    const key = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 5, { maskKey: key }), bytes([0x82, 0x85, 0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 300, { maskKey: key }), bytes([0x82, 0xfe, 0x01, 0x2c, 0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual(
      encodeFrameHeader(OP.BINARY, 70000, { maskKey: key }),
      bytes([0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 0xde, 0xad, 0xbe, 0xef]),
    );
  });

  void test('64-bit lengths above 2^32 are written in network order with the top bit clear', () => {
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 2 ** 32 + 5), bytes([0x82, 0x7f, 0, 0, 0, 0x01, 0, 0, 0, 0x05]));
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 2 ** 53 - 1), bytes([0x82, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert.deepEqual(encodeFrameHeader(OP.BINARY, 0x12345678), bytes([0x82, 0x7f, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]));
  });

  void test('writeFrameHeader writes at an offset, returns its size and touches nothing else', () => {
    const r = prng(3);
    for (const n of LENGTHS) {
      for (const masked of [false, true]) {
        const key = masked ? r.bytes(4) : undefined;
        const target = new Uint8Array(32).fill(0xee);
        const written = writeFrameHeader(target, 7, OP.TEXT, n, true, false, key);
        assert.equal(written, frameHeaderSize(n, masked));
        assert.deepEqual(target.subarray(7, 7 + written), buildHeader({ opcode: OP.TEXT, mask: key ?? false }, n));
        assert.ok(target.subarray(0, 7).every((b) => b === 0xee));
        assert.ok(target.subarray(7 + written).every((b) => b === 0xee));
      }
    }
  });

  void test('the allocate option is used for the output buffer', () => {
    const sizes: number[] = [];
    const alloc = (n: number): Uint8Array => {
      sizes.push(n);
      return new Uint8Array(n).fill(0x55); // dirty memory, like Buffer.allocUnsafe
    };
    const key = Uint8Array.of(9, 9, 9, 9);
    const f = encodeFrame(OP.BINARY, pattern(200), { maskKey: key }, alloc);
    assert.deepEqual(f, buildFrame({ opcode: OP.BINARY, payload: pattern(200), mask: key }));
    const h = encodeFrameHeader(OP.BINARY, 200, {}, alloc);
    assert.deepEqual(h, bytes([0x82, 0x7e, 0x00, 0xc8]));
    assert.deepEqual(sizes, [208, 4]);
  });

  void test('random payloads and keys round-trip (seeded)', () => {
    const r = prng(2024);
    for (let iter = 0; iter < 300; iter++) {
      const n = r.int(iter % 10 === 0 ? 70000 : 400);
      const payload = r.bytes(n);
      const before = payload.slice();
      const key = r.bytes(4);
      const f = encodeFrame(OP.BINARY, payload, { maskKey: key });
      assert.deepEqual(payload, before);
      const cuts = [r.int(f.length + 1)].sort((a, b) => a - b);
      assert.deepEqual(feedCuts(f, SERVER, cuts), [ev.binary(payload)], `iteration ${iter}`);
    }
  });
});
