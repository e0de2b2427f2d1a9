import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { formatExtensions, hasToken, isToken, parseExtensions, parseTokenList, type ExtensionOffer } from '../../src/protocol/header-values.js';

/** Runs `fn` and asserts it returned well within a generous bound (linear parsing, no backtracking). */
function quickly<T>(fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  return out;
}

void describe('RFC 7230 §3.2.6 tokens and §7 lists', () => {
  void test('isToken', () => {
    for (const t of ['websocket', 'Upgrade', 'permessage-deflate', "!#$%&'*+-.^_`|~", 'a1', '__proto__']) assert.equal(isToken(t), true, t);
    for (const t of ['', 'a b', 'a,b', 'a;b', 'a=b', '"a"', 'a/b', 'a@b', 'é', 'a\tb', 'a\u0000', '(a)', '{}', '[x]', 'a:b', 'a?']) assert.equal(isToken(t), false, JSON.stringify(t));
  });

  void test('parseTokenList splits, trims OWS and skips empty elements', () => {
    assert.deepEqual(parseTokenList('a, b,c'), ['a', 'b', 'c']);
    assert.deepEqual(parseTokenList(' \ta ,\tb  '), ['a', 'b']);
    assert.deepEqual(parseTokenList(',,a,, ,b,'), ['a', 'b']);
    assert.deepEqual(parseTokenList(''), []);
    assert.deepEqual(parseTokenList('  ,  '), []);
    assert.deepEqual(parseTokenList('chat'), ['chat']);
  });

  void test('parseTokenList rejects elements that are not tokens', () => {
    for (const v of ['a b', 'a, b c', 'a;b', '"a"', 'a, é', 'a/1', 'a=b', 'a, (b)']) assert.equal(parseTokenList(v), undefined, v);
  });

  void test('hasToken is case-insensitive and matches whole tokens only', () => {
    assert.equal(hasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(hasToken('UPGRADE', 'upgrade'), true);
    assert.equal(hasToken('upgrade', 'Upgrade'), true);
    assert.equal(hasToken('WebSocket', 'websocket'), true);
    assert.equal(hasToken('keep-alive', 'upgrade'), false);
    assert.equal(hasToken('upgrades, xupgrade', 'upgrade'), false);
    assert.equal(hasToken('', 'upgrade'), false);
    assert.equal(hasToken(undefined, 'upgrade'), false);
    assert.equal(hasToken('upgrade, bad value', 'upgrade'), false, 'an invalid list has no tokens');
  });

  void test('hasToken agrees with a lookup in parseTokenList on random lists', () => {
    const reference = (value: string, token: string): boolean => parseTokenList(value)?.some((t) => t.toLowerCase() === token.toLowerCase()) ?? false;
    const pieces = ['upgrade', 'Upgrade', 'UPGRADE', 'upgrades', 'up', 'websocket', 'x', ',', ',', ' ', '\t', ' ', 'a b', 'é', '"', ';', ''];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      let value = '';
      for (let n = next(6); n >= 0; n--) value += pieces[next(pieces.length)]!;
      for (const token of ['upgrade', 'websocket', 'UP', '']) assert.equal(hasToken(value, token), reference(value, token), JSON.stringify([value, token]));
    }
  });

  void test('names like __proto__ and constructor are plain strings', () => {
    const list = parseTokenList('__proto__, constructor, toString, hasOwnProperty');
    assert.deepEqual(list, ['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    assert.equal(hasToken('__proto__', '__proto__'), true);
    assert.equal(hasToken('a', 'constructor'), false);
  });
});

void describe('RFC 6455 §9.1 extension header', () => {
  const cases: Array<[string, ExtensionOffer[]]> = [
    ['permessage-deflate', [{ name: 'permessage-deflate', params: [] }]],
    ['permessage-deflate; client_max_window_bits', [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]],
    [
      'permessage-deflate; server_max_window_bits=10; client_no_context_takeover',
      [{ name: 'permessage-deflate', params: [['server_max_window_bits', '10'], ['client_no_context_takeover', true]] }],
    ],
    ['foo; bar="baz"', [{ name: 'foo', params: [['bar', 'baz']] }]],
    ['foo; bar="b\\az"', [{ name: 'foo', params: [['bar', 'baz']] }]],
    ['foo; bar="10"', [{ name: 'foo', params: [['bar', '10']] }]],
    [
      'a; x=1, b, c; y; z="q"',
      [
        { name: 'a', params: [['x', '1']] },
        { name: 'b', params: [] },
        { name: 'c', params: [['y', true], ['z', 'q']] },
      ],
    ],
    [
      '  a ;  x = 1 ,\tb\t;\ty  ',
      [
        { name: 'a', params: [['x', '1']] },
        { name: 'b', params: [['y', true]] },
      ],
    ],
    ['a; x=1; x=2; x', [{ name: 'a', params: [['x', '1'], ['x', '2'], ['x', true]] }]],
    [', a ,, b,', [{ name: 'a', params: [] }, { name: 'b', params: [] }]],
    ['', []],
    [
      'permessage-deflate; client_max_window_bits, permessage-deflate',
      [
        { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
        { name: 'permessage-deflate', params: [] },
      ],
    ],
  ];
  for (const [input, want] of cases) {
    void test(`parses ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseExtensions(input), want);
    });
  }

  const invalid = [
    ['unclosed quote', 'a; b="unclosed'],
    ['unclosed quote, empty', 'a; b="'],
    ['backslash at the end of a quoted string', 'a; b="x\\'],
    ['bad character in the name', 'a@'],
    ['bad character in a parameter name', 'a; b@=1'],
    ['bad character in a value', 'a; b=1@'],
    ['non-ASCII name', 'é'],
    ['empty parameter name', 'a;'],
    ['empty parameter name before =', 'a; =1'],
    ['empty parameter between separators', 'a; ; b'],
    ['= with nothing', 'a; b='],
    ['= with only white space', 'a; b=  '],
    ['= then comma', 'a; b=, c'],
    ['empty quoted value', 'a; b=""'],
    ['quoted value with a space (not a token)', 'a; b="x y"'],
    ['quoted value with a comma (not a token)', 'a; b="x,y"'],
    ['quoted value with an escaped quote (not a token)', 'a; b="\\""'],
    ['two tokens without a separator', 'a b'],
    ['value with two tokens', 'a; b=1 2'],
    ['parameter with no extension', '; a'],
    ['quoted extension name', '"a"'],
    ['garbage after a quoted value', 'a; b="1"x'],
  ] as const;
  for (const [label, input] of invalid) {
    void test(`rejects ${label}: ${JSON.stringify(input)}`, () => {
      assert.equal(parseExtensions(input), undefined);
    });
  }

  void test('names like __proto__ and constructor come back as plain strings in arrays', () => {
    const out = parseExtensions('__proto__; constructor=prototype; __proto__, constructor; toString="valueOf"');
    assert.deepEqual(out, [
      { name: '__proto__', params: [['constructor', 'prototype'], ['__proto__', true]] },
      { name: 'constructor', params: [['toString', 'valueOf']] },
    ]);
    assert.ok(out !== undefined);
    assert.ok(Array.isArray(out[0]!.params));
    assert.equal(Object.getPrototypeOf(out[0]), Object.prototype, 'the offer object was not re-prototyped');
    assert.equal(typeof out[0]!.name, 'string');
    assert.equal(({} as Record<string, unknown>)['constructor'], Object, 'Object.prototype is untouched');
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'prototype'), false);
  });

  void test('formatExtensions output parses back to the same offers', () => {
    for (const [input, want] of cases) {
      if (want.length === 0) continue;
      const text = formatExtensions(want);
      assert.deepEqual(parseExtensions(text), want, `${JSON.stringify(input)} → ${JSON.stringify(text)}`);
    }
    assert.equal(
      formatExtensions([{ name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] }]),
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10',
    );
  });
});

void describe('hostile header values (100,000 characters) return promptly', () => {
  const N = 100_000;
  const inputs: Array<[string, string]> = [
    ['spaces', ' '.repeat(N)],
    ['tabs', '\t'.repeat(N)],
    ['commas', ','.repeat(N)],
    ['comma-space', ', '.repeat(N / 2)],
    ['unclosed quote', 'a; b="' + 'x'.repeat(N)],
    ['unclosed quote of escapes', 'a; b="' + '\\x'.repeat(N / 2)],
    ['many parameters', 'a' + '; b'.repeat(N / 3)],
    ['many parameters with values', 'a' + '; b=1'.repeat(N / 5)],
    ['many empty parameters', 'a' + ';'.repeat(N)],
    ['many extensions', 'a,'.repeat(N / 2)],
    ['one long token', 'a'.repeat(N)],
    ['long token then garbage', 'a'.repeat(N) + ' @'],
    ['spaces then quote', ' '.repeat(N) + '"'],
  ];
  for (const [label, input] of inputs) {
    void test(`${label}`, () => {
      const ext = quickly(() => parseExtensions(input));
      const list = quickly(() => parseTokenList(input));
      const has = quickly(() => hasToken(input, 'upgrade'));
      assert.ok(ext === undefined || Array.isArray(ext));
      assert.ok(list === undefined || Array.isArray(list));
      assert.equal(has, false);
    });
  }

  void test('expected verdicts on the long inputs', () => {
    assert.deepEqual(parseExtensions(' '.repeat(N)), []);
    assert.deepEqual(parseExtensions(','.repeat(N)), []);
    assert.equal(parseExtensions('a; b="' + 'x'.repeat(N)), undefined);
    assert.equal(parseExtensions('a' + ';'.repeat(N)), undefined);
    assert.equal(parseExtensions('a,'.repeat(N / 2))?.length, N / 2);
    assert.equal(parseExtensions('a' + '; b'.repeat(N / 3))?.[0]?.params.length, Math.floor(N / 3));
    assert.deepEqual(parseTokenList(','.repeat(N)), []);
    assert.deepEqual(parseTokenList(' '.repeat(N)), []);
    assert.equal(parseTokenList('a'.repeat(N))?.[0]?.length, N);
  });
});
