/**
 * Fuzzing the `parley.v1` envelope decoder (src/wire/envelope.ts) against docs/realtime-protocol.md:
 * `decodeFrame` on random text and binary payloads (valid envelopes, random JSON, deep nesting up
 * to 100,000 levels, brackets inside strings, oversized and non-UTF-8 payloads, bad length
 * prefixes) and `parseClientEnvelope` on random envelopes of every type. Each answer must equal a
 * reference written here from the protocol document, failures must be `EnvelopeError`s with a
 * documented code (and the request id when it is valid), and a payload too large or too deep must
 * be refused without `JSON.parse` ever seeing it.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { EnvelopeError, decodeFrame, parseClientEnvelope, type EnvelopeLimits } from '../../../src/wire/envelope.js';
import { DECODE_CODES, PARSE_CODES, concatBytes, show } from './documented.js';
import { defineProperty, type FuzzProperty } from '../property.js';

const enc = new TextEncoder();

// ---- reference -------------------------------------------------------------------------------

/** Nesting depth of a parsed JSON value (objects and arrays count one level each), without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v === 'object' && v !== null) {
      const nd = d + 1;
      if (nd > max) max = nd;
      for (const child of Object.values(v)) stack.push([child, nd]);
    }
  }
  return max;
}

type Expected = { ok: Record<string, unknown> } | { codes: string[] };

/** docs/realtime-protocol.md "Frames" and "Limits the server enforces". */
function refDecode(payload: string | Uint8Array, limits: EnvelopeLimits): Expected {
  const maxBytes = limits.maxBytes ?? 65_536;
  const maxDepth = limits.maxDepth ?? 32;
  let text: string;
  let binary: Uint8Array | undefined;
  if (typeof payload === 'string') {
    if (enc.encode(payload).length > maxBytes) return { codes: ['TOO_LARGE'] };
    text = payload;
  } else {
    if (payload.length < 4) return { codes: ['BAD_ENVELOPE'] };
    const n = ((payload[0]! << 24) >>> 0) + (payload[1]! << 16) + (payload[2]! << 8) + payload[3]!;
    const codes: string[] = [];
    if (n > maxBytes) codes.push('TOO_LARGE');
    if (4 + n > payload.length) codes.push('BAD_ENVELOPE');
    if (codes.length > 0) return { codes };
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(4, 4 + n));
    } catch {
      return { codes: ['BAD_ENVELOPE'] };
    }
    binary = payload.subarray(4 + n);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: it may be refused as malformed, or as too deep by the bracket count that runs first.
    return { codes: ['BAD_ENVELOPE', 'TOO_DEEP'] };
  }
  if (depthOf(value) > maxDepth) return { codes: ['TOO_DEEP'] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { codes: ['BAD_ENVELOPE'] };
  const obj = value as Record<string, unknown>;
  if (typeof obj.t !== 'string') return { codes: ['BAD_ENVELOPE'] };
  if (binary !== undefined) {
    if (obj.bin !== true) return { codes: ['BAD_ENVELOPE'] };
    obj.data = binary;
  }
  return { ok: obj };
}

const TOPIC = /^[A-Za-z0-9:_\-./@#]{1,200}$/;
const validId = (id: unknown): boolean => (typeof id === 'string' && id.length >= 1 && id.length <= 64) || (typeof id === 'number' && Number.isSafeInteger(id));
const validTopic = (t: unknown): boolean => typeof t === 'string' && TOPIC.test(t);

/** docs/realtime-protocol.md "Client → server", with the limits of its table. */
function refParse(obj: Record<string, unknown> & { t: string }): Expected {
  const codes = new Set<string>();
  const out: Record<string, unknown> = { t: obj.t };
  const id = (): void => {
    if (!validId(obj.id)) codes.add('BAD_ENVELOPE');
    else out.id = obj.id;
  };
  const topic = (): void => {
    if (!validTopic(obj.topic)) codes.add('BAD_TOPIC');
    else out.topic = obj.topic;
  };
  switch (obj.t) {
    case 'sub': {
      id();
      topic();
      if (obj.since !== undefined) {
        const s: unknown = obj.since;
        const fields = typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
        const { epoch, offset } = fields;
        const ok = typeof s === 'object' && s !== null && typeof epoch === 'string' && epoch.length <= 64 && typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0;
        if (!ok) codes.add('BAD_ENVELOPE');
        else out.since = { epoch, offset };
      }
      if (obj.presence !== undefined) out.presence = obj.presence;
      break;
    }
    case 'unsub':
    case 'presence':
      id();
      topic();
      break;
    case 'pub':
      if (obj.id !== undefined) id();
      if (!('data' in obj) || obj.data === undefined) codes.add('BAD_ENVELOPE');
      topic();
      out.data = obj.data;
      if (obj.key !== undefined) {
        if (typeof obj.key !== 'string' || obj.key.length > 200) codes.add('BAD_ENVELOPE');
        else out.key = obj.key;
      }
      break;
    case 'req':
      id();
      if (typeof obj.method !== 'string' || obj.method.length === 0 || obj.method.length > 100) codes.add('BAD_ENVELOPE');
      else out.method = obj.method;
      out.data = obj.data;
      break;
    default:
      return { codes: ['UNKNOWN_TYPE'] };
  }
  return codes.size > 0 ? { codes: [...codes] } : { ok: out };
}

// ---- running ---------------------------------------------------------------------------------

/** Runs `f` with `JSON.parse` watched; reports whether it was called. */
function watchingParse<T>(f: () => T): { value?: T; error?: unknown; parsed: boolean } {
  const original = JSON.parse;
  let parsed = false;
  JSON.parse = function parse(this: JSON, text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown): unknown {
    parsed = true;
    return original.call(this, text, reviver) as unknown;
  };
  try {
    return { value: f(), parsed };
  } catch (error) {
    return { error, parsed };
  } finally {
    JSON.parse = original;
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e) ?? typeof e;
}

function describe(payload: string | Uint8Array): string {
  return typeof payload === 'string' ? JSON.stringify(payload.length > 200 ? `${payload.slice(0, 200)}…(${payload.length})` : payload) : show(payload);
}

function checkDecode(payload: string | Uint8Array, limits: EnvelopeLimits): void {
  const expected = refDecode(payload, limits);
  const run = watchingParse(() => decodeFrame(payload, limits));
  const what = `decodeFrame(${describe(payload)}, ${JSON.stringify(limits)})`;
  if (run.error !== undefined) {
    const e = run.error;
    if (!(e instanceof EnvelopeError)) throw new Error(`${what} threw ${describeError(e)}`);
    if (!DECODE_CODES.has(e.code)) throw new Error(`${what}: undocumented code ${e.code}`);
    if ((e.code === 'TOO_DEEP' || e.code === 'TOO_LARGE') && run.parsed) throw new Error(`${what}: ${e.code} only after JSON.parse ran`);
    if ('ok' in expected) throw new Error(`${what}: ${e.code}, the reference accepts ${show(enc.encode(JSON.stringify(expected.ok)))}`);
    if (!expected.codes.includes(e.code)) throw new Error(`${what}: ${e.code}, the reference says ${expected.codes.join(' or ')}`);
    return;
  }
  if (!('ok' in expected)) throw new Error(`${what}: accepted, the reference says ${expected.codes.join(' or ')}`);
  if (!isDeepStrictEqual(run.value, expected.ok)) throw new Error(`${what}: ${JSON.stringify(run.value)} != reference ${JSON.stringify(expected.ok)}`);
}

function checkParse(text: string): void {
  let obj: Record<string, unknown> & { t: string };
  try {
    obj = decodeFrame(text);
  } catch (error) {
    if (error instanceof EnvelopeError && DECODE_CODES.has(error.code)) return;
    throw new Error(`decodeFrame(${describe(text)}) threw ${String(error)}`);
  }
  const expected = refParse(obj);
  let actual: unknown;
  try {
    actual = parseClientEnvelope(obj);
  } catch (e) {
    const what = `parseClientEnvelope(${describe(text)})`;
    if (!(e instanceof EnvelopeError)) throw new Error(`${what} threw ${describeError(e)}`);
    if (!PARSE_CODES.has(e.code)) throw new Error(`${what}: undocumented code ${e.code}`);
    const wantId = validId(obj.id) ? obj.id : undefined;
    if (e.id !== wantId) throw new Error(`${what}: error id ${JSON.stringify(e.id)}, expected ${JSON.stringify(wantId)}`);
    if ('ok' in expected) throw new Error(`${what}: ${e.code} (${e.message}), the reference accepts ${JSON.stringify(expected.ok)}`);
    if (!expected.codes.includes(e.code)) throw new Error(`${what}: ${e.code}, the reference says ${expected.codes.join(' or ')}`);
    return;
  }
  if (!('ok' in expected)) throw new Error(`parseClientEnvelope(${describe(text)}): accepted ${JSON.stringify(actual)}, the reference says ${expected.codes.join(' or ')}`);
  if (!isDeepStrictEqual(actual, expected.ok)) throw new Error(`parseClientEnvelope(${describe(text)}): ${JSON.stringify(actual)} != reference ${JSON.stringify(expected.ok)}`);
}

// ---- generators ------------------------------------------------------------------------------

const T = fc.oneof(
  { arbitrary: fc.constantFrom('sub', 'unsub', 'pub', 'req', 'presence'), weight: 8 },
  { arbitrary: fc.constantFrom('hello', 'SUB', '', '__proto__', 'constructor'), weight: 1 },
);
const idArb = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 64 }), weight: 3 },
  { arbitrary: fc.integer(), weight: 2 },
  { arbitrary: fc.constantFrom('', 'x'.repeat(65), 2 ** 53, -(2 ** 53) + 1, 1.5, -0, 0, null, true, [], {}), weight: 1 },
);
const topicArb = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9:_\-./@#]{1,30}$/), weight: 4 },
  { arbitrary: fc.constantFrom('', 'a'.repeat(200), 'a'.repeat(201), 'room 1', 'room\n', 'ünï', '__proto__', 'a/b#c@d'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
);
const sinceArb = fc.oneof(
  fc.record({ epoch: fc.string({ maxLength: 70 }), offset: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 53, '3')) }),
  fc.constantFrom(null, 'x', 1, [], {}, { epoch: 'e' }, { offset: 1 }),
);
/** Any JSON value, shallow. */
const jsonArb = fc.jsonValue({ maxDepth: 3 });
const envelopeObject = fc.record(
  {
    t: T,
    id: idArb,
    topic: topicArb,
    since: sinceArb,
    presence: jsonArb,
    data: jsonArb,
    key: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('k'.repeat(201)), fc.integer()),
    method: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('m'.repeat(101)), fc.integer()),
    extra: jsonArb,
  },
  { requiredKeys: ['t'] },
);
export const envelopeText = envelopeObject.map((o) => JSON.stringify(o));

/** Text payloads: envelopes, random JSON, deep nesting, brackets in strings, random text. */
const nesting = fc.record({ depth: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 40, max: 100_000 })), open: fc.constantFrom('[', '{"a":'), closed: fc.boolean(), inner: fc.constantFrom('1', '"x"', '{"t":"pub"}') })
  .map(({ depth, open, closed, inner }) => {
    const close = open === '[' ? ']' : '}';
    return `{"t":"pub","data":${open.repeat(depth)}${inner}${closed ? close.repeat(depth) : ''}}`;
  });
const textPayload = fc.oneof(
  { arbitrary: envelopeText, weight: 5 },
  { arbitrary: nesting, weight: 3 },
  { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), weight: 2 },
  { arbitrary: fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', 't', '1', ' '), maxLength: 60 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.record({ inner: fc.string({ unit: fc.constantFrom('[', '{', '\\"', '\\\\', 'a'), maxLength: 200 }) }).map(({ inner }) => `{"t":"pub","data":"${inner}"}`), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => JSON.stringify({ t: 'pub', topic: 'a', data: s })), weight: 1 },
  { arbitrary: fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify({ t: 'pub', topic: 'a', data: 'é'.repeat(n / 2) })), weight: 1 },
);
const binaryPayload = fc.oneof(
  {
    arbitrary: fc.record({ head: textPayload, data: fc.uint8Array({ maxLength: 40 }), bin: fc.boolean(), delta: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: -5, max: 5 }), weight: 1 }) })
      .map(({ head, data, bin, delta }) => {
        const h = enc.encode(bin && head.startsWith('{"t"') ? `{"bin":true,${head.slice(1)}` : head);
        const n = Math.max(0, h.length + delta);
        return concatBytes([Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), h, data]);
      }),
    weight: 5,
  },
  { arbitrary: fc.uint8Array({ maxLength: 30 }), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 65_536, 65_537), fc.uint8Array({ maxLength: 20 })).map(([n, rest]) => concatBytes([Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), rest])), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(...[[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xff], [0x7b, 0x22, 0xe2, 0x82]]), fc.nat(3)).map(([bad]) => concatBytes([Uint8Array.of(0, 0, 0, bad.length), Uint8Array.from(bad)])), weight: 1 },
);
const limitsArb: fc.Arbitrary<EnvelopeLimits> = fc.record({ maxBytes: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 60_000, max: 70_000 })), maxDepth: fc.integer({ min: 0, max: 40 }) }, { requiredKeys: [] });

export const envelopeProperties: FuzzProperty[] = [
  defineProperty(
    'envelope/decode-frame',
    'decodeFrame on text and binary payloads (envelopes, random JSON, nesting to 100,000, non-UTF-8, bad prefixes) = reference; only EnvelopeError TOO_LARGE/TOO_DEEP/BAD_ENVELOPE; too deep or too large never reaches JSON.parse',
    1500,
    () => fc.property(fc.oneof(textPayload, binaryPayload), limitsArb, checkDecode),
  ),
  defineProperty(
    'envelope/client-envelope',
    'decodeFrame + parseClientEnvelope on random envelopes of every type = reference from docs/realtime-protocol.md; only BAD_ENVELOPE/BAD_TOPIC/UNKNOWN_TYPE, with the id when valid',
    3000,
    () => fc.property(envelopeText, checkParse),
  ),
];
