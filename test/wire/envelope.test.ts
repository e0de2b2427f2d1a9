import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EnvelopeError,
  REALTIME_SUBPROTOCOL,
  decodeFrame,
  encodeEnvelope,
  isValidId,
  isValidTopic,
  jsonDepth,
  parseClientEnvelope,
  parseServerEnvelope,
  type ClientEnvelope,
  type RealtimeErrorCode,
  type ServerEnvelope,
} from '../../src/wire/envelope.js';

function decodeError(payload: string | Uint8Array, limits?: Parameters<typeof decodeFrame>[1]): EnvelopeError {
  try {
    decodeFrame(payload, limits);
  } catch (error) {
    assert.ok(error instanceof EnvelopeError, `expected an EnvelopeError, got ${String(error)}`);
    return error;
  }
  assert.fail('decodeFrame accepted it');
}

function parseError(obj: Record<string, unknown>): EnvelopeError {
  try {
    parseClientEnvelope(obj as Record<string, unknown> & { t: string });
  } catch (error) {
    assert.ok(error instanceof EnvelopeError);
    return error;
  }
  assert.fail(`parseClientEnvelope accepted ${JSON.stringify(obj)}`);
}

function binaryFrame(head: unknown, data: Uint8Array, lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof head === 'string' ? head : JSON.stringify(head));
  const out = new Uint8Array(4 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, lengthOverride ?? json.length);
  out.set(json, 4);
  out.set(data, 4 + json.length);
  return out;
}

void describe('decodeFrame: limits', () => {
  void test('the subprotocol name', () => assert.equal(REALTIME_SUBPROTOCOL, 'parley.v1'));

  void test('size: a text envelope over maxBytes is TOO_LARGE, counted in UTF-8 bytes', () => {
    const fits = JSON.stringify({ t: 'x', pad: 'a'.repeat(100) });
    assert.equal(decodeFrame(fits, { maxBytes: fits.length }).t, 'x');
    assert.equal(decodeError(fits, { maxBytes: fits.length - 1 }).code, 'TOO_LARGE');
    // 40 characters of 'é' are 80 bytes: the limit is bytes, not characters.
    const accents = JSON.stringify({ t: 'x', s: 'é'.repeat(40) });
    assert.ok(accents.length < 64);
    assert.equal(decodeError(accents, { maxBytes: 64 }).code, 'TOO_LARGE');
    const emoji = JSON.stringify({ t: 'x', s: '😀'.repeat(10) }); // 20 UTF-16 units, 40 bytes
    assert.equal(decodeFrame(emoji, { maxBytes: 100 }).t, 'x');
    assert.equal(decodeError(emoji, { maxBytes: 50 }).code, 'TOO_LARGE');
    assert.equal(decodeError('{"t":"x","p":"' + 'a'.repeat(70_000) + '"}').code, 'TOO_LARGE', 'default 64 KiB');
  });

  void test('depth: 32 levels pass by default, 33 are TOO_DEEP; brackets inside strings do not count', () => {
    const nest = (n: number): string => `{"t":"x","d":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    assert.equal(decodeFrame(nest(32)).t, 'x');
    assert.equal(decodeError(nest(33)).code, 'TOO_DEEP');
    assert.equal(decodeFrame(JSON.stringify({ t: 'x', s: '[[[[[[[[[[{{{{{{{{{{'.repeat(10) + '\\"[' })).t, 'x');
    assert.equal(jsonDepth('"[[["', 1), 0);
    assert.equal(jsonDepth('{"a":"\\"[[["}', 5), 1);
  });

  void test('100,000-deep nesting is refused quickly, before JSON.parse sees it', () => {
    const deep = `{"t":"x","d":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const started = performance.now();
    const error = decodeError(deep, { maxBytes: 1 << 20 });
    const elapsed = performance.now() - started;
    assert.equal(error.code, 'TOO_DEEP');
    assert.ok(elapsed < 50, `took ${elapsed.toFixed(1)} ms`);
    // Unclosed nesting too (not valid JSON, but still refused by depth first).
    assert.equal(decodeError('['.repeat(100_000), { maxBytes: 1 << 20 }).code, 'TOO_DEEP');
  });

  void test('not JSON, not an object, no string t → BAD_ENVELOPE', () => {
    for (const text of ['{', 'hello', '', '{"t":"x",}', 'null', '42', '"s"', '[1,2]', '[]', '{}', '{"t":1}', '{"t":null}', '{"t":["sub"]}']) {
      assert.equal(decodeError(text).code, 'BAD_ENVELOPE', text);
    }
  });
});

void describe('decodeFrame: binary envelopes', () => {
  void test('length prefix, JSON head with bin:true, then the payload as data', () => {
    const payload = new Uint8Array([0, 1, 2, 255]);
    const frame = binaryFrame({ t: 'pub', topic: 'x', bin: true }, payload);
    const obj = decodeFrame(frame);
    assert.equal(obj.t, 'pub');
    assert.ok(obj.data instanceof Uint8Array);
    assert.deepEqual([...obj.data], [0, 1, 2, 255]);
    assert.deepEqual(decodeFrame(binaryFrame({ t: 'pub', bin: true }, new Uint8Array(0))).data, new Uint8Array(0));
  });

  void test('encodeEnvelope writes the same layout, and it decodes back', () => {
    const data = new Uint8Array([9, 8, 7]);
    const encoded = encodeEnvelope({ t: 'msg', topic: 'x', epoch: 'e', offset: 3, data });
    assert.ok(encoded instanceof Uint8Array);
    const back = decodeFrame(encoded);
    assert.deepEqual({ ...back, data: [...(back.data as Uint8Array)] }, { t: 'msg', topic: 'x', epoch: 'e', offset: 3, bin: true, data: [9, 8, 7] });
    assert.equal(encodeEnvelope({ t: 'ok', id: 1 }), '{"t":"ok","id":1}');
  });

  void test('broken binary envelopes', () => {
    assert.equal(decodeError(new Uint8Array([0, 0, 1])).code, 'BAD_ENVELOPE', 'shorter than the prefix');
    assert.equal(decodeError(binaryFrame({ t: 'pub', bin: true }, new Uint8Array(0), 1000)).code, 'BAD_ENVELOPE', 'length past the end');
    assert.equal(decodeError(binaryFrame({ t: 'pub', bin: true }, new Uint8Array(10), 70_000)).code, 'TOO_LARGE', 'declared head over the limit');
    const badUtf8 = new Uint8Array([0, 0, 0, 2, 0xc3, 0x28]);
    assert.equal(decodeError(badUtf8).code, 'BAD_ENVELOPE');
    assert.equal(decodeError(binaryFrame({ t: 'pub' }, new Uint8Array([1]))).code, 'BAD_ENVELOPE', 'without bin:true');
    assert.equal(decodeError(binaryFrame('[1]', new Uint8Array([1]))).code, 'BAD_ENVELOPE');
    const deepHead = `{"t":"pub","bin":true,"x":${'['.repeat(40)}${']'.repeat(40)}}`;
    assert.equal(decodeError(binaryFrame(deepHead, new Uint8Array([1]))).code, 'TOO_DEEP');
  });
});

void describe('parseClientEnvelope: every type', () => {
  void test('valid envelopes of each type', () => {
    assert.deepEqual(parseClientEnvelope({ t: 'sub', id: 1, topic: 'room:1' }), { t: 'sub', id: 1, topic: 'room:1' });
    assert.deepEqual(
      parseClientEnvelope({ t: 'sub', id: 'a', topic: 'r', since: { epoch: 'E', offset: 0 }, presence: { name: 'x' }, extra: true }),
      { t: 'sub', id: 'a', topic: 'r', since: { epoch: 'E', offset: 0 }, presence: { name: 'x' } },
      'unknown fields are ignored',
    );
    assert.deepEqual(parseClientEnvelope({ t: 'unsub', id: 2, topic: 'r' }), { t: 'unsub', id: 2, topic: 'r' });
    assert.deepEqual(parseClientEnvelope({ t: 'pub', topic: 'r', data: null }), { t: 'pub', topic: 'r', data: null });
    assert.deepEqual(parseClientEnvelope({ t: 'pub', id: 'p', topic: 'r', data: 1, key: 'k' }), { t: 'pub', id: 'p', topic: 'r', data: 1, key: 'k' });
    assert.deepEqual(parseClientEnvelope({ t: 'req', id: 3, method: 'bid', data: { a: 1 } }), { t: 'req', id: 3, method: 'bid', data: { a: 1 } });
    assert.deepEqual(parseClientEnvelope({ t: 'presence', id: 4, topic: 'r' }), { t: 'presence', id: 4, topic: 'r' });
  });

  const badIds: unknown[] = [undefined, null, '', 'x'.repeat(65), 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, {}, [], true];
  const badTopics: unknown[] = [undefined, '', 'has space', 'x'.repeat(201), 'é', 'a\nb', 5, null, ['a']];

  void test('sub, unsub, presence, req: every bad id → BAD_ENVELOPE without an id', () => {
    for (const id of badIds) {
      for (const base of [{ t: 'sub', topic: 'r' }, { t: 'unsub', topic: 'r' }, { t: 'presence', topic: 'r' }, { t: 'req', method: 'm' }]) {
        const e = parseError({ ...base, id });
        assert.equal(e.code, 'BAD_ENVELOPE', `${base.t} id ${JSON.stringify(id)}`);
        assert.equal(e.id, undefined);
      }
      if (id !== undefined) assert.equal(parseError({ t: 'pub', topic: 'r', data: 1, id }).code, 'BAD_ENVELOPE', `pub id ${JSON.stringify(id)}`);
    }
    assert.equal(isValidId('x'.repeat(64)), true);
    assert.equal(isValidId(-5), true);
  });

  void test('every bad topic → BAD_TOPIC, carrying the id when it is valid', () => {
    for (const topic of badTopics) {
      for (const base of [{ t: 'sub', id: 7 }, { t: 'unsub', id: 7 }, { t: 'presence', id: 7 }, { t: 'pub', id: 7, data: 1 }]) {
        const e = parseError({ ...base, topic });
        assert.equal(e.code, 'BAD_TOPIC', `${base.t} topic ${String(topic)}`);
        assert.equal(e.id, 7);
      }
    }
    assert.equal(isValidTopic('A-z_0.9:/@#'), true);
    assert.equal(isValidTopic('x'.repeat(200)), true);
  });

  void test('sub: since must be { epoch: string ≤ 64, offset: non-negative safe integer }', () => {
    for (const since of [null, 'E:1', 5, [], {}, { epoch: 'E' }, { offset: 1 }, { epoch: 1, offset: 1 }, { epoch: 'x'.repeat(65), offset: 1 }, { epoch: 'E', offset: -1 }, { epoch: 'E', offset: 1.5 }, { epoch: 'E', offset: '1' }, { epoch: 'E', offset: 2 ** 53 }]) {
      const e = parseError({ t: 'sub', id: 'i', topic: 'r', since });
      assert.equal(e.code, 'BAD_ENVELOPE', JSON.stringify(since));
      assert.equal(e.id, 'i');
    }
  });

  void test('pub: data is required; key must be a string of at most 200 characters', () => {
    assert.equal(parseError({ t: 'pub', topic: 'r' }).code, 'BAD_ENVELOPE');
    for (const key of [1, null, {}, 'k'.repeat(201)]) assert.equal(parseError({ t: 'pub', topic: 'r', data: 1, key }).code, 'BAD_ENVELOPE', JSON.stringify(key));
  });

  void test('req: method must be a string of 1–100 characters', () => {
    for (const method of [undefined, '', 'm'.repeat(101), 5, null, {}]) {
      const e = parseError({ t: 'req', id: 1, method });
      assert.equal(e.code, 'BAD_ENVELOPE', JSON.stringify(method));
      assert.equal(e.id, 1);
    }
  });

  void test('unknown types → UNKNOWN_TYPE with the id, and a bounded echo of the type', () => {
    for (const t of ['hello', 'msg', 'SUB', '', 'x'.repeat(1000), '__proto__', 'constructor']) {
      const e = parseError({ t, id: 9 });
      assert.equal(e.code, 'UNKNOWN_TYPE' satisfies RealtimeErrorCode);
      assert.equal(e.id, 9);
      assert.ok(e.message.length < 80);
    }
  });
});

function serverError(obj: Record<string, unknown>): EnvelopeError {
  try {
    parseServerEnvelope(obj as Record<string, unknown> & { t: string });
  } catch (error) {
    assert.ok(error instanceof EnvelopeError, `expected an EnvelopeError, got ${String(error)}`);
    return error;
  }
  assert.fail(`parseServerEnvelope accepted ${JSON.stringify(obj)}`);
}

/** Encoded, decoded and parsed again: what the other side sees. */
function overTheWire(envelope: ServerEnvelope | ClientEnvelope): Record<string, unknown> & { t: string } {
  const encoded = encodeEnvelope(envelope);
  const decoded = decodeFrame(encoded);
  if (decoded.bin === true) delete decoded.bin;
  return decoded;
}

const VALID_SERVER: ServerEnvelope[] = [
  { t: 'hello', v: 1, time: 1700000000000, conn: 'abc.1' },
  { t: 'hello', v: 1, time: 1, conn: 'c', user: 'ann' },
  { t: 'subok', id: 1, topic: 'room:1', epoch: 'E', offset: 0 },
  { t: 'subok', id: 'x', topic: 'r', epoch: 'E', offset: 9, recovered: false, snapshot: { a: [1] } },
  { t: 'msg', topic: 'r', epoch: 'E', offset: 3, data: { price: 1 } },
  { t: 'msg', topic: 'r', epoch: 'E', offset: 4, data: null, key: 'k', conflated: true },
  { t: 'msg', topic: 'r', epoch: 'E', offset: 5, data: new Uint8Array([1, 2, 3]) },
  { t: 'ok', id: 2 },
  { t: 'ok', id: 2, offset: 17 },
  { t: 'ok', id: 'q', members: [{ user: 'u', conn: 'c' }, { user: 'v', conn: 'd', info: { seat: 1 } }] },
  { t: 'res', id: 3, data: 'answer' },
  { t: 'err', code: 'RATE_LIMITED', message: 'slow down' },
  { t: 'err', id: 4, code: 'FORBIDDEN', message: 'no' },
  { t: 'pres', topic: 'r', event: 'join', member: { user: 'u', conn: 'c', info: 'x' } },
  { t: 'pres', topic: 'r', event: 'leave', member: { user: 'u', conn: 'c' } },
  { t: 'gap', topic: 'r' },
];

void describe('parseServerEnvelope: every type (client side)', () => {
  void test('what the server encodes parses back to the same envelope, binary msg included', () => {
    for (const envelope of VALID_SERVER) assert.deepEqual(parseServerEnvelope(overTheWire(envelope)), envelope, envelope.t);
  });

  void test('unknown fields are dropped; unknown types are undefined (a newer server), not errors', () => {
    assert.deepEqual(parseServerEnvelope({ t: 'gap', topic: 'r', extra: 1 }), { t: 'gap', topic: 'r' });
    assert.deepEqual(parseServerEnvelope({ t: 'ok', id: 1, members: [{ user: 'u', conn: 'c', x: 1 }] }), { t: 'ok', id: 1, members: [{ user: 'u', conn: 'c' }] });
    for (const t of ['future-thing', 'sub', 'pub', '', '__proto__', 'constructor', 'x'.repeat(1000)]) assert.equal(parseServerEnvelope({ t }), undefined, t);
  });

  const badIds: unknown[] = [undefined, null, '', 'x'.repeat(65), 1.5, Number.MAX_SAFE_INTEGER + 1, {}, [], true];
  const badTopics: unknown[] = [undefined, '', 'has space', 'x'.repeat(201), 5, null, ['a']];
  const badOffsets: unknown[] = [undefined, -1, 1.5, '1', null, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY];

  void test('bad ids: subok, ok and res need one; err may omit it but not carry a bad one', () => {
    for (const id of badIds) {
      for (const base of [{ t: 'subok', topic: 'r', epoch: 'E', offset: 0 }, { t: 'ok' }, { t: 'res', data: 1 }]) {
        const e = serverError({ ...base, id });
        assert.equal(e.code, 'BAD_ENVELOPE', `${base.t} id ${JSON.stringify(id)}`);
        assert.equal(e.id, undefined);
      }
      if (id !== undefined) assert.equal(serverError({ t: 'err', id, code: 'X', message: 'm' }).code, 'BAD_ENVELOPE');
    }
  });

  void test('bad topics → BAD_TOPIC on subok, msg, pres and gap, with the id when it is valid', () => {
    for (const topic of badTopics) {
      assert.equal(serverError({ t: 'subok', id: 5, topic, epoch: 'E', offset: 0 }).id, 5);
      for (const obj of [
        { t: 'subok', id: 5, topic, epoch: 'E', offset: 0 },
        { t: 'msg', topic, epoch: 'E', offset: 1, data: 1 },
        { t: 'pres', topic, event: 'join', member: { user: 'u', conn: 'c' } },
        { t: 'gap', topic },
      ]) assert.equal(serverError(obj).code, 'BAD_TOPIC', `${obj.t} ${JSON.stringify(topic)}`);
    }
  });

  void test('positions: epoch a string, offset a non-negative safe integer (subok, msg, ok)', () => {
    for (const offset of badOffsets) {
      assert.equal(serverError({ t: 'subok', id: 1, topic: 'r', epoch: 'E', offset }).code, 'BAD_ENVELOPE', `subok ${String(offset)}`);
      assert.equal(serverError({ t: 'msg', topic: 'r', epoch: 'E', offset, data: 1 }).code, 'BAD_ENVELOPE', `msg ${String(offset)}`);
      if (offset !== undefined) assert.equal(serverError({ t: 'ok', id: 1, offset }).code, 'BAD_ENVELOPE', `ok ${JSON.stringify(offset)}`);
    }
    for (const epoch of [undefined, 1, null, {}]) {
      assert.equal(serverError({ t: 'subok', id: 1, topic: 'r', epoch, offset: 0 }).code, 'BAD_ENVELOPE');
      assert.equal(serverError({ t: 'msg', topic: 'r', epoch, offset: 0, data: 1 }).code, 'BAD_ENVELOPE');
    }
  });

  void test('field types of hello, subok, msg, ok, err and pres', () => {
    const bad: Array<Record<string, unknown>> = [
      { t: 'hello', time: 1, conn: 'c' },
      { t: 'hello', v: 2, time: 1, conn: 'c' },
      { t: 'hello', v: 1, time: '1', conn: 'c' },
      { t: 'hello', v: 1, time: Number.NaN, conn: 'c' },
      { t: 'hello', v: 1, time: 1, conn: 5 },
      { t: 'hello', v: 1, time: 1, conn: 'c', user: 7 },
      { t: 'subok', id: 1, topic: 'r', epoch: 'E', offset: 0, recovered: 'yes' },
      { t: 'msg', topic: 'r', epoch: 'E', offset: 0, data: 1, key: 5 },
      { t: 'msg', topic: 'r', epoch: 'E', offset: 0, data: 1, conflated: false },
      { t: 'ok', id: 1, members: 'all' },
      { t: 'ok', id: 1, members: [{ user: 'u' }] },
      { t: 'ok', id: 1, members: [null] },
      { t: 'err', message: 'm' },
      { t: 'err', code: '', message: 'm' },
      { t: 'err', code: 'X' },
      { t: 'err', code: 5, message: 'm' },
      { t: 'pres', topic: 'r', event: 'joined', member: { user: 'u', conn: 'c' } },
      { t: 'pres', topic: 'r', event: 'join' },
      { t: 'pres', topic: 'r', event: 'join', member: { user: 'u', conn: ['c'] } },
      { t: 'pres', topic: 'r', event: 'join', member: [] },
    ];
    for (const obj of bad) {
      const e = serverError(obj);
      assert.equal(e.code, 'BAD_ENVELOPE', JSON.stringify(obj));
      assert.ok(e.message.startsWith(`"${obj.t as string}" envelope: `), e.message);
    }
  });

  void test('hostile server text is refused by decodeFrame before the parser sees it (size, depth)', () => {
    assert.equal(decodeError('{"t":"msg","data":' + '['.repeat(200) + ']'.repeat(200) + '}', { maxDepth: 128 }).code, 'TOO_DEEP');
    assert.equal(decodeError(JSON.stringify({ t: 'msg', data: 'x'.repeat(100) }), { maxBytes: 50 }).code, 'TOO_LARGE');
  });
});

void describe('parseClientEnvelope over the wire', () => {
  void test('what the client encodes parses back to the same envelope, binary pub included', () => {
    const valid: ClientEnvelope[] = [
      { t: 'sub', id: 'a.1', topic: 'r', since: { epoch: 'E', offset: 3 }, presence: { seat: 2 } },
      { t: 'unsub', id: 2, topic: 'r' },
      { t: 'pub', topic: 'r', data: { a: 1 } },
      { t: 'pub', id: 'p', topic: 'r', data: new Uint8Array([9, 8]), key: 'k' },
      { t: 'req', id: 3, method: 'bid', data: [1] },
      { t: 'presence', id: 4, topic: 'r' },
    ];
    for (const envelope of valid) assert.deepEqual(parseClientEnvelope(overTheWire(envelope)), envelope, envelope.t);
  });
});
