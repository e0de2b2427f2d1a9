import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCodeOf, encodeClosePayload, isValidCloseCode } from '../../src/protocol/close.js';
import { OP, buildFrame, bytes, ev, feed } from './helpers.js';

/** RFC 6455 §7.4.1/§7.4.2 plus the IANA registry (1012–1014), written out independently. */
function rfcAllows(code: number): boolean {
  const defined = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014];
  return defined.includes(code) || (code >= 3000 && code <= 4999);
}

void describe('RFC 6455 §7.4 close status codes', () => {
  void test('isValidCloseCode matches the RFC for every code 0..65535', () => {
    for (let code = 0; code <= 65535; code++) assert.equal(isValidCloseCode(code), rfcAllows(code), `code ${code}`);
  });

  void test('named invalid codes are rejected and valid ones accepted', () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) assert.equal(isValidCloseCode(code), false, `${code}`);
    for (const code of [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999]) assert.equal(isValidCloseCode(code), true, `${code}`);
  });
});

void describe('RFC 6455 §5.5.1 close payload encoding', () => {
  void test('no code → empty payload', () => {
    assert.deepEqual(encodeClosePayload(), new Uint8Array(0));
    assert.deepEqual(encodeClosePayload(undefined, ''), new Uint8Array(0));
    assert.deepEqual(encodeClosePayload(undefined, new Uint8Array(0)), new Uint8Array(0));
  });

  void test('a reason without a code → RangeError', () => {
    assert.throws(() => encodeClosePayload(undefined, 'why'), RangeError);
    assert.throws(() => encodeClosePayload(undefined, bytes([0x61])), RangeError);
  });

  void test('code in network order, then the UTF-8 reason', () => {
    assert.deepEqual(encodeClosePayload(1000), bytes([0x03, 0xe8]));
    assert.deepEqual(encodeClosePayload(4999, 'bye'), bytes([0x13, 0x87, 0x62, 0x79, 0x65]));
    assert.deepEqual(encodeClosePayload(1001, 'é'), bytes([0x03, 0xe9, 0xc3, 0xa9]));
    assert.deepEqual(encodeClosePayload(3000, bytes([0x6f, 0x6b])), bytes([0x0b, 0xb8, 0x6f, 0x6b]));
  });

  void test('invalid codes → RangeError', () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535, 65536, -1, 1000.5, Number.NaN, Infinity]) {
      assert.throws(() => encodeClosePayload(code), RangeError, `code ${code}`);
      assert.throws(() => encodeClosePayload(code, 'x'), RangeError, `code ${code} with reason`);
    }
  });

  void test('reasons up to 123 bytes are accepted, 124 bytes → RangeError (counted in bytes, not characters)', () => {
    assert.equal(encodeClosePayload(1000, 'a'.repeat(123)).length, 125);
    assert.throws(() => encodeClosePayload(1000, 'a'.repeat(124)), RangeError);
    assert.equal(encodeClosePayload(1000, 'é'.repeat(61) + 'a').length, 125);
    assert.throws(() => encodeClosePayload(1000, 'é'.repeat(62)), RangeError, '62 characters but 124 bytes');
    assert.throws(() => encodeClosePayload(1000, new Uint8Array(124)), RangeError);
    assert.equal(encodeClosePayload(1000, new Uint8Array(123)).length, 125);
  });

  void test('closeCodeOf reads the code, or 1005 when there is none', () => {
    assert.equal(closeCodeOf(new Uint8Array(0)), 1005);
    assert.equal(closeCodeOf(bytes([0x03, 0xe8])), 1000);
    assert.equal(closeCodeOf(bytes([0x0f, 0xa0, 0x61])), 4000);
    assert.equal(closeCodeOf(bytes([0xff, 0xff])), 65535);
  });

  void test('encoded payloads round-trip through a Receiver', () => {
    for (const [code, reason] of [[1000, ''], [1001, 'going away'], [1011, 'ünïcödé ✓'], [4321, 'r'.repeat(123)]] as const) {
      const frame = buildFrame({ opcode: OP.CLOSE, payload: encodeClosePayload(code, reason), mask: true });
      assert.deepEqual(feed(frame, { expectMasked: true }), [ev.close(code, reason)]);
    }
    assert.deepEqual(feed(buildFrame({ opcode: OP.CLOSE, payload: encodeClosePayload() }), { expectMasked: false }), [ev.close(1005)]);
  });
});
