/**
 * Fuzzing the handshake parsers (src/protocol/header-values.ts, handshake.ts) against reference
 * grammar checks written here in another style (a regex lexer and a token-list grammar, rather
 * than one character loop): `parseTokenList`, `parseExtensions` and `validateUpgradeRequest`
 * must agree with them on random and hostile header values, never throw anything but a
 * `HandshakeError`, and stay linear: 100 KB of hostile shapes parse in a few milliseconds.
 */
import fc from 'fast-check';
import { parseExtensions, parseTokenList, type ExtensionOffer } from '../../../src/protocol/header-values.js';
import { validateUpgradeRequest } from '../../../src/protocol/handshake.js';
import { HandshakeError } from '../../../src/protocol/errors.js';
import { E } from './documented.js';
import { defineProperty, type FuzzProperty } from '../property.js';

// ---- reference grammar -----------------------------------------------------------------------

/** RFC 7230 §3.2.6 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return s.slice(a, b);
}

/** RFC 7230 §7 `#token`: comma-separated, optional white space, empty elements skipped. */
export function refTokenList(value: string): string[] | undefined {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = trimOws(part);
    if (t === '') continue;
    if (!TOKEN.test(t)) return undefined;
    out.push(t);
  }
  return out;
}

type Lexeme = { k: 'tok'; v: string } | { k: 'q'; v: string } | { k: ',' | ';' | '=' };

/** Splits an extension header into lexemes; `undefined` for a character no rule allows or an unclosed quote. */
function lex(value: string): Lexeme[] | undefined {
  const out: Lexeme[] = [];
  const re = /[ \t]+|[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[^"\\]|\\[^])*"|[,;=]/y;
  re.lastIndex = 0;
  while (re.lastIndex < value.length) {
    const m = re.exec(value);
    if (m === null) return undefined;
    const s = m[0];
    if (s[0] === ' ' || s[0] === '\t') continue;
    if (s === ',' || s === ';' || s === '=') out.push({ k: s });
    else if (s[0] === '"') out.push({ k: 'q', v: s.slice(1, -1).replace(/\\([^])/g, '$1') });
    else out.push({ k: 'tok', v: s });
  }
  return out;
}

/**
 * RFC 6455 §9.1 with the #rule of RFC 7230 §7:
 * `list = [ ext ] *( "," [ ext ] )`, `ext = token *( ";" param )`,
 * `param = token [ "=" ( token / quoted-string ) ]`, a quoted value being a token once unescaped.
 */
export function refExtensions(value: string): ExtensionOffer[] | undefined {
  const lx = lex(value);
  if (lx === undefined) return undefined;
  const out: ExtensionOffer[] = [];
  let i = 0;
  const peek = (): Lexeme | undefined => lx[i];
  while (i < lx.length) {
    const first = peek()!;
    if (first.k === ',') {
      i++;
      continue;
    }
    if (first.k !== 'tok') return undefined;
    const ext: ExtensionOffer = { name: first.v, params: [] };
    i++;
    while (peek()?.k === ';') {
      i++;
      const key = peek();
      if (key?.k !== 'tok') return undefined;
      i++;
      let v: string | true = true;
      if (peek()?.k === '=') {
        i++;
        const val = peek();
        if (val === undefined || (val.k !== 'tok' && val.k !== 'q')) return undefined;
        if (val.k === 'q' && !TOKEN.test(val.v)) return undefined;
        v = val.v;
        i++;
      }
      ext.params.push([key.v, v]);
    }
    out.push(ext);
    const next = peek();
    if (next === undefined) break;
    if (next.k !== ',') return undefined;
    i++;
  }
  return out;
}

// ---- generators ------------------------------------------------------------------------------

/** Pieces that hostile and ordinary header values are built from. */
const PIECES = [
  ' ', '\t', ',', ';', '=', '"', '\\', 'a', 'x', '13', 'websocket', 'upgrade', 'Upgrade', 'permessage-deflate',
  'client_max_window_bits', 'server_max_window_bits', 'server_no_context_takeover', '__proto__', 'constructor',
  'hasOwnProperty', 'toString', '10', '15', '16', '7', 'abc', '"15"', '"1\\5"', '\\"', '\r', '\n', '\0', 'é', '😀',
  '(', ')', '/', '@', '[', ']', '{', '}', '?', ':', '<', '>',
];
const pieceValue = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((a) => a.join(''));
const anyValue = fc.oneof(
  { arbitrary: pieceValue, weight: 5 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
);

const tokenArb = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const ows = fc.constantFrom('', '', ' ', '\t', '  ');
/** A well-formed extension header with random spacing, quoting and empty elements. */
const validExtensions = fc
  .array(
    fc.record({
      name: fc.oneof(fc.constant('permessage-deflate'), tokenArb, fc.constantFrom('__proto__', 'constructor')),
      params: fc.array(fc.record({ k: fc.oneof(tokenArb, fc.constantFrom('client_max_window_bits', '__proto__')), v: fc.option(fc.tuple(tokenArb, fc.boolean())) }), { maxLength: 4 }),
      sp: fc.array(ows, { minLength: 6, maxLength: 6 }),
      empty: fc.boolean(),
    }),
    { maxLength: 4 },
  )
  .map((list) =>
    list
      .map(({ name, params, sp, empty }) => {
        let s = `${sp[0]}${name}`;
        for (const { k, v } of params) {
          s += `${sp[1]};${sp[2]}${k}`;
          if (v !== null) {
            const [t, quoted] = v;
            s += `${sp[3]}=${sp[4]}${quoted ? `"${t.replace(/(.)/g, (c) => (c === 'a' ? '\\a' : c))}"` : t}`;
          }
        }
        return s + sp[5] + (empty ? ', ' : '');
      })
      .join(','),
  );
export const extensionValue = fc.oneof({ arbitrary: validExtensions, weight: 3 }, { arbitrary: anyValue, weight: 3 });
const tokenListValue = fc.oneof(
  { arbitrary: fc.array(fc.tuple(ows, tokenArb, ows), { maxLength: 6 }).map((a) => a.map(([x, t, y]) => x + t + y).join(',')), weight: 3 },
  { arbitrary: anyValue, weight: 3 },
);

// ---- validateUpgradeRequest ------------------------------------------------------------------

interface Headers {
  method: string;
  upgrade: string | null;
  connection: string | null;
  key: string | null;
  version: string | null;
  protocol: string | null;
  extensions: string | null;
}

const base64Key = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64'));
export const headersArb: fc.Arbitrary<Headers> = fc.record({
  method: fc.oneof({ arbitrary: fc.constant('GET'), weight: 8 }, { arbitrary: fc.constantFrom('get', 'POST', 'GET ', '', 'CONNECT'), weight: 1 }),
  upgrade: fc.option(fc.oneof({ arbitrary: fc.constantFrom('websocket', 'WebSocket', 'h2c, websocket', ' websocket '), weight: 6 }, { arbitrary: tokenListValue, weight: 1 }), { freq: 12 }),
  connection: fc.option(fc.oneof({ arbitrary: fc.constantFrom('Upgrade', 'keep-alive, Upgrade', 'upgrade'), weight: 6 }, { arbitrary: tokenListValue, weight: 1 }), { freq: 12 }),
  key: fc.option(fc.oneof({ arbitrary: base64Key, weight: 6 }, { arbitrary: base64Key.map((k) => ` ${k}\t`), weight: 1 }, { arbitrary: anyValue, weight: 1 }, { arbitrary: fc.string({ unit: fc.constantFrom('A', '+', '/', '=', '-', '_'), minLength: 22, maxLength: 26 }), weight: 1 }), { freq: 12 }),
  version: fc.option(fc.oneof({ arbitrary: fc.constant('13'), weight: 8 }, { arbitrary: fc.constantFrom(' 13 ', '8', '14', '13, 8', '', '013'), weight: 2 }, { arbitrary: anyValue, weight: 1 }), { freq: 12 }),
  protocol: fc.option(tokenListValue, { freq: 2 }),
  extensions: fc.option(extensionValue, { freq: 2 }),
});

/**
 * The statuses a request deserves: 405 for a method other than GET, 400 for each malformed part
 * and for a version other than 13 or 8 (RFC 6455 §4.2.1, §4.4; as `ws`).
 */
export function refUpgrade(h: Headers): { ok: { key: string; protocols: string[]; extensions: ExtensionOffer[] } } | { statuses: number[] } {
  const statuses = new Set<number>();
  const has = (v: string | null, want: string): boolean => v !== null && (refTokenList(v) ?? []).some((t) => t.toLowerCase() === want);
  if (h.method !== 'GET') statuses.add(405);
  if (!has(h.upgrade, 'websocket')) statuses.add(400);
  if (!has(h.connection, 'upgrade')) statuses.add(400);
  const key = h.key?.trim();
  if (key === undefined || !/^[A-Za-z0-9+/]{22}==$/.test(key)) statuses.add(400);
  if (h.version === null || !['13', '8'].includes(h.version.trim())) statuses.add(400);
  let protocols: string[] = [];
  if (h.protocol !== null) {
    const list = refTokenList(h.protocol);
    if (list === undefined || list.length === 0 || new Set(list).size !== list.length) statuses.add(400);
    else protocols = list;
  }
  let extensions: ExtensionOffer[] = [];
  if (h.extensions !== null) {
    const list = refExtensions(h.extensions);
    if (list === undefined) statuses.add(400);
    else extensions = list;
  }
  if (statuses.size > 0) return { statuses: [...statuses] };
  return { ok: { key: key!, protocols, extensions } };
}

function lookup(h: Headers): (name: string) => string | undefined {
  const m = new Map<string, string>();
  if (h.upgrade !== null) m.set('upgrade', h.upgrade);
  if (h.connection !== null) m.set('connection', h.connection);
  if (h.key !== null) m.set('sec-websocket-key', h.key);
  if (h.version !== null) m.set('sec-websocket-version', h.version);
  if (h.protocol !== null) m.set('sec-websocket-protocol', h.protocol);
  if (h.extensions !== null) m.set('sec-websocket-extensions', h.extensions);
  return (name) => m.get(name);
}

function checkUpgrade(h: Headers): void {
  const expected = refUpgrade(h);
  let actual: ReturnType<typeof validateUpgradeRequest> | undefined;
  try {
    actual = validateUpgradeRequest(h.method, lookup(h));
  } catch (error) {
    if (!(error instanceof HandshakeError)) throw new Error(`validateUpgradeRequest threw a ${String((error as object)?.constructor?.name)}: ${String(error)}`);
    if (error.code !== E.HANDSHAKE) throw new Error(`HandshakeError code ${error.code}`);
    if ('ok' in expected) throw new Error(`refused with ${error.status} (${error.message}); the reference accepts ${JSON.stringify(expected.ok)}`);
    if (!expected.statuses.includes(error.status)) throw new Error(`refused with ${error.status}; the reference says ${expected.statuses.join(' or ')}`);
    return;
  }
  if (!('ok' in expected)) throw new Error(`accepted ${JSON.stringify(actual)}; the reference refuses with ${expected.statuses.join(' or ')}`);
  if (JSON.stringify(actual) !== JSON.stringify(expected.ok)) throw new Error(`accepted ${JSON.stringify(actual)}; the reference gives ${JSON.stringify(expected.ok)}`);
}

// ---- linear time -----------------------------------------------------------------------------

/** 100 KB built by repeating a short hostile pattern, optionally behind a valid prefix. */
const hostile100k = fc
  .record({
    unit: fc.array(fc.constantFrom(' ', '\t', ',', ';', '=', '"', '\\', 'a', 'b=', 'x;', '"a', '\\"', ', ,', 'permessage-deflate'), { minLength: 1, maxLength: 6 }),
    prefix: fc.constantFrom('', 'permessage-deflate; client_max_window_bits=', 'a;b="', 'websocket,'),
  })
  .map(({ unit, prefix }) => {
    const u = unit.join('');
    return (prefix + u.repeat(Math.ceil(100_000 / u.length))).slice(0, 100_000);
  });

/** Generous: a linear parse of 100 KB takes about a millisecond; a quadratic one, seconds. */
export const LINEAR_BUDGET_MS = 250;

function timed(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

export const handshakeProperties: FuzzProperty[] = [
  defineProperty(
    'handshake/token-list',
    'parseTokenList = reference #token grammar on random and hostile values; never throws',
    3000,
    () => fc.property(tokenListValue, (v) => {
      const a = parseTokenList(v);
      const x = refTokenList(v);
      if (JSON.stringify(a) !== JSON.stringify(x)) throw new Error(`parseTokenList(${JSON.stringify(v)}) = ${JSON.stringify(a)}, reference ${JSON.stringify(x)}`);
    }),
  ),
  defineProperty(
    'handshake/extensions',
    'parseExtensions = reference RFC 6455 §9.1 grammar (lexer + parser) on random and hostile values; names like __proto__ stay strings',
    3000,
    () => fc.property(extensionValue, (v) => {
      const a = parseExtensions(v);
      const x = refExtensions(v);
      if (JSON.stringify(a) !== JSON.stringify(x)) throw new Error(`parseExtensions(${JSON.stringify(v)}) = ${JSON.stringify(a)}, reference ${JSON.stringify(x)}`);
      for (const e of a ?? []) {
        if (Object.getPrototypeOf(e) !== Object.prototype || !Array.isArray(e.params)) throw new Error('an offer is not a plain object with a params array');
      }
    }),
  ),
  defineProperty(
    'handshake/upgrade-request',
    'validateUpgradeRequest = reference (405 for the method, 400 for each malformed part and the version); throws only HandshakeError',
    3000,
    () => fc.property(headersArb, (h) => checkUpgrade(h)),
  ),
  defineProperty(
    'handshake/linear-time',
    `100 KB hostile header values (runs of spaces, unclosed quotes, commas, escapes): each parser < ${LINEAR_BUDGET_MS} ms`,
    40,
    () => fc.property(hostile100k, (v) => {
      const header = (name: string): string => (name === 'sec-websocket-key' ? 'dGhlIHNhbXBsZSBub25jZQ==' : name === 'sec-websocket-version' ? '13' : name === 'upgrade' ? `websocket,${v}` : name === 'connection' ? `${v},Upgrade` : v);
      const parsers: Array<[string, () => unknown]> = [
        ['parseExtensions', () => parseExtensions(v)],
        ['parseTokenList', () => parseTokenList(v)],
        ['validateUpgradeRequest', () => {
          try {
            return validateUpgradeRequest('GET', header);
          } catch (error) {
            if (!(error instanceof HandshakeError)) throw error;
            return error;
          }
        }],
      ];
      for (const [name, parse] of parsers) {
        const ms = timed(parse);
        if (ms > LINEAR_BUDGET_MS) {
          // One retry: a GC pause or a busy machine must not fail the property.
          const again = timed(parse);
          if (again > LINEAR_BUDGET_MS) throw new Error(`${name} took ${ms.toFixed(1)} ms then ${again.toFixed(1)} ms on 100 KB starting ${JSON.stringify(v.slice(0, 40))}`);
        }
      }
    }),
  ),
];
