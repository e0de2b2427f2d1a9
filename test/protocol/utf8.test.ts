import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Utf8Validator, isValidUtf8, type Utf8Check } from '../../src/protocol/utf8.js';
import { bytes, concat, prng } from './helpers.js';

const fatal = new TextDecoder('utf-8', { fatal: true });

/** The reference verdict: what a WHATWG fatal decoder says. */
function reference(b: Uint8Array): boolean {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** A reference `fast` check that also counts how often it is consulted. */
function spyFast(): { check: Utf8Check; calls: Uint8Array[] } {
  const calls: Uint8Array[] = [];
  return {
    calls,
    check: (b) => {
      calls.push(b.slice());
      return reference(b);
    },
  };
}

/** Whole verdict of a validator over pieces: every push accepted and the end complete. */
function verdict(pieces: Uint8Array[], fast?: Utf8Check): boolean {
  const v = new Utf8Validator(fast);
  for (const p of pieces) if (!v.push(p)) return false;
  return v.complete;
}

/** Index of the byte at which byte-by-byte pushing first fails, or -1. */
function failIndex(b: Uint8Array): number {
  const v = new Utf8Validator();
  for (let i = 0; i < b.length; i++) if (!v.push(b.subarray(i, i + 1))) return i;
  return -1;
}

const VALID_EDGES: Array<[string, number[]]> = [
  ['U+0000', [0x00]],
  ['U+007F', [0x7f]],
  ['U+0080', [0xc2, 0x80]],
  ['U+07FF', [0xdf, 0xbf]],
  ['U+0800', [0xe0, 0xa0, 0x80]],
  ['U+D7FF', [0xed, 0x9f, 0xbf]],
  ['U+E000', [0xee, 0x80, 0x80]],
  ['U+FFFD', [0xef, 0xbf, 0xbd]],
  ['U+FFFF', [0xef, 0xbf, 0xbf]],
  ['U+10000', [0xf0, 0x90, 0x80, 0x80]],
  ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
];

/** Invalid sequences and the index of the first byte at which a fail-fast validator must fail. */
const INVALID: Array<[string, number[], number]> = [
  ['overlong C0 80', [0xc0, 0x80], 0],
  ['overlong C1 BF', [0xc1, 0xbf], 0],
  ['overlong E0 80 80', [0xe0, 0x80, 0x80], 1],
  ['overlong E0 9F BF', [0xe0, 0x9f, 0xbf], 1],
  ['overlong F0 80 80 80', [0xf0, 0x80, 0x80, 0x80], 1],
  ['overlong F0 8F BF BF', [0xf0, 0x8f, 0xbf, 0xbf], 1],
  ['surrogate ED A0 80 (U+D800)', [0xed, 0xa0, 0x80], 1],
  ['surrogate ED BF BF (U+DFFF)', [0xed, 0xbf, 0xbf], 1],
  ['surrogate pair ED A0 BD ED B2 A9', [0xed, 0xa0, 0xbd, 0xed, 0xb2, 0xa9], 1],
  ['above U+10FFFF F4 90 80 80', [0xf4, 0x90, 0x80, 0x80], 1],
  ['F5 80 80 80', [0xf5, 0x80, 0x80, 0x80], 0],
  ['F7 BF BF BF', [0xf7, 0xbf, 0xbf, 0xbf], 0],
  ['F8 (5-byte form)', [0xf8, 0x88, 0x80, 0x80, 0x80], 0],
  ['FC (6-byte form)', [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], 0],
  ['FE', [0xfe], 0],
  ['FF', [0xff], 0],
  ['lone 80', [0x80], 0],
  ['lone BF', [0xbf], 0],
  ['ASCII then stray continuation', [0x61, 0x80], 1],
  ['2-byte lead then ASCII', [0xc3, 0x28], 1],
  ['3-byte lead, one continuation, then ASCII', [0xe2, 0x82, 0x28], 2],
  ['4-byte lead, two continuations, then a lead', [0xf0, 0x9f, 0x98, 0xc3], 3],
  ['valid then extra continuation', [0xc3, 0xa9, 0x80], 2],
];

const TRUNCATED: Array<[string, number[]]> = [
  ['2-byte lead only', [0x61, 0xc3]],
  ['3-byte, one continuation', [0x61, 0xe2, 0x82]],
  ['4-byte, two continuations', [0x61, 0xf0, 0x9f, 0x98]],
  ['4-byte, lead only', [0xf4]],
];

const FAST_VARIANTS: Array<[string, Utf8Check | undefined]> = [
  ['streaming only', undefined],
  ['with a TextDecoder fast check', reference],
];

void describe('RFC 3629 §4 / RFC 6455 §8.1 Utf8Validator', () => {
  for (const [vname, fast] of FAST_VARIANTS) {
    void test(`${vname}: boundary code points are valid, whole and split at every byte`, () => {
      for (const [name, seq] of VALID_EDGES) {
        const b = bytes(seq);
        assert.equal(verdict([b], fast), true, name);
        for (let k = 0; k <= b.length; k++) assert.equal(verdict([b.subarray(0, k), b.subarray(k)], fast), true, `${name} split ${k}`);
        // Long enough to reach the fast path, with the code point at the end.
        assert.equal(verdict([concat(bytes('a'.repeat(70)), b)], fast), true, `${name} after 70 ASCII`);
      }
    });

    void test(`${vname}: 2-, 3- and 4-byte text split across pushes at every position`, () => {
      const b = bytes('aé€😀ßz' + '✓'.repeat(30) + '𝄞');
      for (let i = 0; i <= b.length; i++) {
        assert.equal(verdict([b.subarray(0, i), b.subarray(i)], fast), true, `split at ${i}`);
        for (let j = i; j <= b.length; j += 7) {
          assert.equal(verdict([b.subarray(0, i), b.subarray(i, j), b.subarray(j)], fast), true, `split at ${i}, ${j}`);
        }
      }
    });

    for (const [name, seq] of INVALID) {
      void test(`${vname}: ${name} is rejected`, () => {
        const b = bytes(seq);
        assert.equal(reference(b), false, 'the reference agrees it is invalid');
        assert.equal(new Utf8Validator(fast).push(b), false);
        assert.equal(verdict([concat(bytes('é'.repeat(40)), b)], fast), false, 'after 80 bytes of valid text');
        assert.equal(verdict([concat(bytes('x'.repeat(100)), b, bytes('y'.repeat(100)))], fast), false, 'in the middle of a long span');
      });
    }

    for (const [name, seq] of TRUNCATED) {
      void test(`${vname}: ${name} is accepted so far but not complete`, () => {
        const v = new Utf8Validator(fast);
        assert.equal(v.push(bytes(seq)), true);
        assert.equal(v.complete, false);
        const long = new Utf8Validator(fast);
        assert.equal(long.push(concat(bytes('z'.repeat(100)), bytes(seq))), true, 'the fast path carries the tail');
        assert.equal(long.complete, false);
      });
    }

    void test(`${vname}: push(bytes, start, end) looks only at [start, end)`, () => {
      const buf = concat(bytes([0xff, 0xc0]), bytes('é'.repeat(50)), bytes([0xe2, 0x82]), bytes([0x80, 0xfe]));
      const v = new Utf8Validator(fast);
      assert.equal(buf.length, 106);
      assert.equal(v.push(buf, 2, 102), true);
      assert.equal(v.complete, true);
      assert.equal(v.push(buf, 102, 104), true, 'an incomplete tail is carried');
      assert.equal(v.complete, false);
      assert.equal(v.push(buf, 104, 105), true, 'and finished by the next range');
      assert.equal(v.complete, true);
      assert.equal(new Utf8Validator(fast).push(buf, 0, 1), false);
      assert.equal(new Utf8Validator(fast).push(buf, 105, 106), false);
      const w = new Utf8Validator(fast);
      assert.equal(w.push(buf, 2, 104), true, 'a range ending inside a code point (fast path)');
      assert.equal(w.complete, false);
      assert.equal(w.push(buf, 104, 105), true);
      assert.equal(w.complete, true);
    });

    void test(`${vname}: random byte arrays agree with TextDecoder (seeded)`, () => {
      const r = prng(0xc0ffee);
      const special = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xf8, 0xff];
      const enc = new TextEncoder();
      let valid = 0;
      for (let iter = 0; iter < 4000; iter++) {
        let b: Uint8Array;
        const mode = iter % 4;
        if (mode === 0) {
          b = r.bytes(r.int(200));
        } else if (mode === 1) {
          b = new Uint8Array(r.int(120));
          for (let i = 0; i < b.length; i++) b[i] = special[r.int(special.length)]!;
        } else {
          // Valid text from random code points, then possibly damaged.
          let s = '';
          const n = r.int(mode === 2 ? 40 : 120);
          for (let i = 0; i < n; i++) {
            const kind = r.int(4);
            let cp = kind === 0 ? r.int(0x80) : kind === 1 ? 0x80 + r.int(0x780) : kind === 2 ? 0x800 + r.int(0xf800) : 0x10000 + r.int(0x100000);
            if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
            s += String.fromCodePoint(cp);
          }
          b = enc.encode(s);
          const damage = r.int(4);
          for (let d = 0; d < damage && b.length > 0; d++) {
            const op = r.int(3);
            if (op === 0) b[r.int(b.length)] = special[r.int(special.length)]!;
            else if (op === 1) b = b.subarray(0, r.int(b.length));
            else b = b.subarray(r.int(b.length));
          }
        }
        const want = reference(b);
        if (want) valid++;
        assert.equal(verdict([b], fast), want, `whole, iteration ${iter}: ${Array.from(b).join(',')}`);
        // The same bytes in random pieces, each pushed as a range of a larger buffer.
        const pieces: Uint8Array[] = [];
        for (let at = 0; at < b.length; ) {
          const len = 1 + r.int(80);
          pieces.push(b.subarray(at, at + len));
          at += len;
        }
        assert.equal(verdict(pieces, fast), want, `pieces, iteration ${iter}`);
        const v = new Utf8Validator(fast);
        const padded = concat(bytes([0xff]), b, bytes([0xff]));
        let ok = true;
        for (let at = 0; at < b.length && ok; ) {
          const len = 1 + r.int(100);
          ok = v.push(padded, 1 + at, 1 + Math.min(b.length, at + len));
          at += len;
        }
        assert.equal(ok && v.complete, want, `ranges, iteration ${iter}`);
      }
      assert.ok(valid > 800 && valid < 3200, `a useful mix of valid (${valid}) and invalid inputs`);
    });
  }

  void test('fail fast: the first failing byte is the first byte that cannot continue valid UTF-8', () => {
    for (const [name, seq, at] of INVALID) assert.equal(failIndex(bytes(seq)), at, name);
    for (const [name, seq] of TRUNCATED) assert.equal(failIndex(bytes(seq)), -1, name);
  });

  void test('the fast check is consulted for long spans and its verdict is used', () => {
    const spy = spyFast();
    const v = new Utf8Validator(spy.check);
    assert.equal(v.push(bytes('a'.repeat(200) + '€')), true);
    assert.ok(spy.calls.length >= 1, 'fast check called');
    const never: Utf8Check = () => false;
    assert.equal(new Utf8Validator(never).push(bytes('a'.repeat(200))), false, 'a fast check that says no is obeyed');
    assert.equal(new Utf8Validator(never).push(bytes('abc')), true, 'short spans are checked byte by byte');
  });

  void test('the fast check never sees a code point cut in half', () => {
    const spy = spyFast();
    const v = new Utf8Validator(spy.check);
    const b = bytes('é'.repeat(40) + '😀' + '€'.repeat(30));
    for (let at = 0; at < b.length; at += 67) assert.equal(v.push(b.subarray(at, at + 67)), true);
    assert.equal(v.complete, true);
    for (const c of spy.calls) assert.equal(reference(c), true, 'every span given to the fast check is valid on its own');
  });

  void test('reset() after a complete message starts fresh', () => {
    const v = new Utf8Validator();
    assert.equal(v.push(bytes('€')), true);
    v.reset();
    assert.equal(v.push(bytes('😀')), true);
    assert.equal(v.complete, true);
  });

  void test('reset() after an unfinished sequence drops it', () => {
    const v = new Utf8Validator();
    assert.equal(v.push(bytes([0xe2, 0x82])), true);
    assert.equal(v.complete, false);
    v.reset();
    assert.equal(v.complete, true);
    assert.equal(v.push(bytes('abc')), true);
    assert.equal(v.complete, true);
  });

  // Regression: reset() used to clear #need but not the narrowed range #lo/#hi set by an
  // E0/ED/F0/F4 lead.
  void test(
    'reset() after a lead byte with a narrowed range (E0, ED, F0, F4) forgets the range',
    () => {
      for (const [lead, next] of [
        [0xe0, [0xe1, 0x80, 0x80]], // E0 leaves lo=A0: 80 wrongly rejected
        [0xed, [0xe1, 0xbf, 0xbf]], // ED leaves hi=9F: BF wrongly rejected
        [0xf0, [0xf1, 0x80, 0x80, 0x80]], // F0 leaves lo=90
        [0xf4, [0xf1, 0xbf, 0xbf, 0xbf]], // F4 leaves hi=8F
      ] as const) {
        const v = new Utf8Validator();
        assert.equal(v.push(bytes([lead])), true);
        v.reset();
        assert.equal(reference(bytes(next)), true);
        assert.equal(v.push(bytes(next)), true, `after 0x${lead.toString(16)} + reset()`);
        assert.equal(v.complete, true);
      }
    },
  );
});

void describe('isValidUtf8 (close reasons, RFC 6455 §5.5.1)', () => {
  void test('without a fast check: valid, invalid and truncated', () => {
    assert.equal(isValidUtf8(new Uint8Array(0)), true);
    assert.equal(isValidUtf8(bytes('normal closure ✓')), true);
    for (const [name, seq] of INVALID) assert.equal(isValidUtf8(bytes(seq)), false, name);
    for (const [name, seq] of TRUNCATED) assert.equal(isValidUtf8(bytes(seq)), false, name);
  });

  void test('with a fast check: the fast check decides', () => {
    const spy = spyFast();
    assert.equal(isValidUtf8(bytes('ok'), spy.check), true);
    assert.equal(isValidUtf8(bytes([0xed, 0xa0, 0x80]), spy.check), false);
    assert.equal(spy.calls.length, 2);
    assert.equal(isValidUtf8(bytes('ok'), () => false), false);
  });
});
