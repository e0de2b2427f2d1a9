import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  STATUS_TEXT,
  acceptKey,
  acceptResponseLines,
  buildErrorResponse,
  formatResponseHead,
  generateKey,
  isValidKey,
  validateUpgradeRequest,
  validateUpgradeResponse,
  type HeaderLookup,
} from '../../src/protocol/handshake.js';
import { HandshakeError } from '../../src/protocol/errors.js';

const sha1 = (s: string): Uint8Array => createHash('sha1').update(s).digest();

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A header lookup over a plain record, by lower-case name, like Node's IncomingMessage.headers. */
function headers(h: Record<string, string | undefined>): HeaderLookup {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(h)) if (v !== undefined) m.set(k.toLowerCase(), v);
  return (name) => m.get(name);
}

const GOOD_REQUEST = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': RFC_KEY,
  'sec-websocket-version': '13',
};

/** Asserts that `fn` throws a HandshakeError with this HTTP status. */
function assertHandshakeError(fn: () => unknown, status: number, label?: string, message?: string): void {
  assert.throws(
    fn,
    (err: unknown) => {
      assert.ok(err instanceof HandshakeError, `${label ?? ''}: a HandshakeError`);
      assert.equal(err.status, status, `${label ?? ''}: status`);
      if (message !== undefined) assert.equal(err.message, message, `${label ?? ''}: message`);
      assert.equal(err.code, 'ERR_WS_HANDSHAKE_FAILED');
      return true;
    },
    label,
  );
}

function request(overrides: Record<string, string | undefined>, method = 'GET'): ReturnType<typeof validateUpgradeRequest> {
  return validateUpgradeRequest(method, headers({ ...GOOD_REQUEST, ...overrides }));
}

void describe('RFC 6455 §1.3/§4.2.2 Sec-WebSocket-Accept', () => {
  void test("the RFC's example key gives the RFC's accept value", () => {
    assert.equal(acceptKey(RFC_KEY, sha1), RFC_ACCEPT);
  });

  void test('acceptKey is base64(SHA-1(key + GUID)) for random keys', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(16).toString('base64');
      const want = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      assert.equal(acceptKey(key, sha1), want);
    }
  });
});

void describe('RFC 6455 §4.1 Sec-WebSocket-Key', () => {
  void test('generateKey encodes 16 bytes as base64 and makes a valid key', () => {
    for (let i = 0; i < 50; i++) {
      const raw = randomBytes(16);
      const key = generateKey(new Uint8Array(raw));
      assert.equal(key, raw.toString('base64'));
      assert.equal(key.length, 24);
      assert.equal(isValidKey(key), true);
    }
  });

  void test('generateKey needs exactly 16 bytes', () => {
    for (const n of [0, 1, 15, 17, 32]) assert.throws(() => generateKey(new Uint8Array(n)), RangeError, `${n} bytes`);
  });

  void test('isValidKey accepts base64 of 16 bytes only', () => {
    assert.equal(isValidKey(RFC_KEY), true);
    assert.equal(isValidKey('AAAAAAAAAAAAAAAAAAAAAA=='), true);
    assert.equal(isValidKey('+/+/+/+/+/+/+/+/+/+/+w=='), true);
    const bad = [
      '',
      Buffer.alloc(15, 1).toString('base64'), // 20 characters
      Buffer.alloc(17, 1).toString('base64'), // 24 characters, one '='
      Buffer.alloc(18, 1).toString('base64'),
      'dGhlIHNhbXBsZSBub25jZQ', // padding missing
      'dGhlIHNhbXBsZSBub25jZQ=', // one '=' only
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZ!==', // not base64
      'dGhlIHNhbXBsZSBub25jZ-==', // base64url alphabet
      'dGhlIHNhbXBsZSBub2 jZQ==',
      'dGhlIHNhbXBsZSBub25jZé==',
      '========================',
    ];
    for (const k of bad) assert.equal(isValidKey(k), false, JSON.stringify(k));
  });
});

void describe('RFC 6455 §4.2.1 server handshake: validateUpgradeRequest', () => {
  void test('a valid request is accepted', () => {
    assert.deepEqual(request({}), { key: RFC_KEY, protocols: [], extensions: [] });
  });

  void test("wrong method → 405 'Invalid HTTP method' (as ws)", () => {
    for (const m of ['POST', 'HEAD', 'CONNECT', 'get', '']) assertHandshakeError(() => request({}, m), 405, m, 'Invalid HTTP method');
  });

  void test('missing or wrong Upgrade → 400', () => {
    assertHandshakeError(() => request({ upgrade: undefined }), 400, 'missing', 'Invalid Upgrade header');
    assertHandshakeError(() => request({ upgrade: 'h2c' }), 400, 'h2c', 'Invalid Upgrade header');
    assertHandshakeError(() => request({ upgrade: '' }), 400, 'empty');
    assertHandshakeError(() => request({ upgrade: 'websockets' }), 400, 'websockets');
    assert.equal(request({ upgrade: 'WebSocket' }).key, RFC_KEY, 'case-insensitive');
  });

  void test('missing Connection upgrade token → 400', () => {
    assertHandshakeError(() => request({ connection: undefined }), 400, 'missing');
    assertHandshakeError(() => request({ connection: 'keep-alive' }), 400, 'keep-alive only');
    assertHandshakeError(() => request({ connection: 'close' }), 400, 'close');
    assertHandshakeError(() => request({ connection: 'upgraded' }), 400, 'upgraded');
  });

  void test("Connection: 'keep-alive, Upgrade' and other spellings are accepted", () => {
    for (const c of ['keep-alive, Upgrade', 'Upgrade, keep-alive', 'upgrade', 'UPGRADE', 'keep-alive,upgrade', '  Upgrade  ']) {
      assert.equal(request({ connection: c }).key, RFC_KEY, c);
    }
  });

  void test('bad Sec-WebSocket-Key → 400', () => {
    const bad: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['empty', ''],
      ['15 bytes', Buffer.alloc(15, 7).toString('base64')],
      ['17 bytes', Buffer.alloc(17, 7).toString('base64')],
      ['wrong length', 'dGhlIHNhbXBsZSBub25jZQ=='.slice(0, 20)],
      ['non-base64', 'dGhlIHNhbXBsZSBub25j*Q=='],
      ['no padding', 'dGhlIHNhbXBsZSBub25jZQAA'],
    ];
    for (const [label, key] of bad) assertHandshakeError(() => request({ 'sec-websocket-key': key }), 400, label, 'Missing or invalid Sec-WebSocket-Key header');
  });

  void test('a key with surrounding white space is accepted and trimmed', () => {
    assert.equal(request({ 'sec-websocket-key': `  ${RFC_KEY} ` }).key, RFC_KEY);
  });

  void test('Sec-WebSocket-Version 13 or 8 (hybi-08, as ws) is accepted; any other, or missing → 400', () => {
    const message = 'Missing or invalid Sec-WebSocket-Version header';
    for (const v of ['7', '12', '14', '', 'thirteen', '13, 8']) assertHandshakeError(() => request({ 'sec-websocket-version': v }), 400, `version ${v}`, message);
    assertHandshakeError(() => request({ 'sec-websocket-version': undefined }), 400, 'missing', message);
    assert.equal(request({ 'sec-websocket-version': ' 13 ' }).key, RFC_KEY);
    assert.equal(request({ 'sec-websocket-version': '8' }).key, RFC_KEY);
  });

  void test('subprotocols are parsed in order', () => {
    assert.deepEqual(request({ 'sec-websocket-protocol': 'chat, superchat' }).protocols, ['chat', 'superchat']);
    assert.deepEqual(request({ 'sec-websocket-protocol': 'v2.json' }).protocols, ['v2.json']);
  });

  void test('duplicate or invalid subprotocols → 400', () => {
    for (const p of ['chat, chat', 'a, b, a', 'chat@', 'a b', 'x/1', '"chat"', '', ' , ', 'ch\u00e4t']) {
      assertHandshakeError(() => request({ 'sec-websocket-protocol': p }), 400, JSON.stringify(p), 'Invalid Sec-WebSocket-Protocol header');
    }
  });

  void test('extensions are parsed; an invalid extension header → 400', () => {
    assert.deepEqual(request({ 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }).extensions, [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
    ]);
    for (const e of ['permessage-deflate; x="', 'a;', 'a; b=""']) {
      assertHandshakeError(() => request({ 'sec-websocket-extensions': e }), 400, e, 'Invalid or unacceptable Sec-WebSocket-Extensions header');
    }
  });
});

void describe('RFC 6455 §4.2.2 server responses', () => {
  void test('acceptResponseLines and formatResponseHead build the 101 response', () => {
    const lines = acceptResponseLines(RFC_ACCEPT, undefined, undefined);
    assert.deepEqual(lines, ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${RFC_ACCEPT}`]);
    assert.equal(
      formatResponseHead(lines),
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}\r\n\r\n`,
    );
    const full = acceptResponseLines(RFC_ACCEPT, 'chat', 'permessage-deflate');
    assert.ok(full.includes('Sec-WebSocket-Protocol: chat'));
    assert.ok(full.includes('Sec-WebSocket-Extensions: permessage-deflate'));
    const head = formatResponseHead([...full, 'X-A: 1']);
    assert.ok(head.includes('\r\nX-A: 1\r\n\r\n'));
    assert.ok(!acceptResponseLines(RFC_ACCEPT, undefined, '').some((l) => l.startsWith('Sec-WebSocket-Extensions')));
  });

  void test("buildErrorResponse(426) and the version refusal carry 'Sec-WebSocket-Version: 13, 8' (RFC 6455 §4.4)", () => {
    const r = buildErrorResponse(426);
    assert.ok(r.startsWith('HTTP/1.1 426 Upgrade Required\r\n'), r);
    assert.ok(r.includes('\r\nSec-WebSocket-Version: 13, 8\r\n'), r);
    assert.ok(r.endsWith('\r\n\r\nUpgrade Required'));
    const v = buildErrorResponse(400, 'Missing or invalid Sec-WebSocket-Version header');
    assert.ok(v.startsWith('HTTP/1.1 400 Bad Request\r\n'), v);
    assert.ok(v.includes('\r\nSec-WebSocket-Version: 13, 8\r\n'), v);
  });

  void test('buildErrorResponse: other statuses, Content-Length in bytes, extra headers', () => {
    const r = buildErrorResponse(400, 'bad — request');
    assert.ok(r.startsWith('HTTP/1.1 400 Bad Request\r\n'));
    assert.ok(!r.includes('Sec-WebSocket-Version'));
    assert.ok(r.includes(`\r\nContent-Length: ${Buffer.byteLength('bad — request')}\r\n`));
    assert.ok(r.endsWith('\r\n\r\nbad — request'));
    const h = buildErrorResponse(429, undefined, { 'Retry-After': '5' });
    assert.ok(h.includes('\r\nRetry-After: 5\r\n'));
    assert.ok(h.startsWith(`HTTP/1.1 429 ${STATUS_TEXT[429]}\r\n`));
    assert.ok(buildErrorResponse(599).startsWith('HTTP/1.1 599 Error\r\n'));
  });
});

void describe('RFC 6455 §4.1 client handshake: validateUpgradeResponse', () => {
  const GOOD_RESPONSE = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': RFC_ACCEPT };
  const response = (overrides: Record<string, string | undefined>, offered: string[] = [], status = 101): ReturnType<typeof validateUpgradeResponse> =>
    validateUpgradeResponse(status, headers({ ...GOOD_RESPONSE, ...overrides }), RFC_KEY, sha1, offered);

  void test('a valid 101 response is accepted', () => {
    assert.deepEqual(response({}), { protocol: '', extensions: [] });
    assert.deepEqual(response({ 'sec-websocket-protocol': 'chat' }, ['superchat', 'chat']), { protocol: 'chat', extensions: [] });
    assert.deepEqual(response({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover' }).extensions, [
      { name: 'permessage-deflate', params: [['server_no_context_takeover', true]] },
    ]);
  });

  void test('wrong status → HandshakeError carrying that status', () => {
    for (const s of [200, 400, 403, 426, 500]) assertHandshakeError(() => response({}, [], s), s, `status ${s}`);
  });

  void test('wrong or missing accept → HandshakeError', () => {
    assertHandshakeError(() => response({ 'sec-websocket-accept': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }), 101, 'wrong', 'Invalid Sec-WebSocket-Accept header');
    assertHandshakeError(() => response({ 'sec-websocket-accept': undefined }), 101, 'missing');
    assertHandshakeError(() => response({ 'sec-websocket-accept': acceptKey('AAAAAAAAAAAAAAAAAAAAAA==', sha1) }), 101, 'for another key');
  });

  void test('missing Upgrade or Connection → HandshakeError', () => {
    assertHandshakeError(() => response({ upgrade: undefined }), 101, 'no upgrade', 'Invalid Upgrade header');
    assertHandshakeError(() => response({ connection: 'keep-alive' }), 101, 'no connection upgrade');
  });

  void test("a subprotocol that was not offered, or none when some were → HandshakeError with ws's messages", () => {
    assertHandshakeError(() => response({ 'sec-websocket-protocol': 'chat' }, []), 101, 'none offered', 'Server sent a subprotocol but none was requested');
    assertHandshakeError(() => response({ 'sec-websocket-protocol': 'chat' }, ['superchat']), 101, 'other offered', 'Server sent an invalid subprotocol');
    assertHandshakeError(() => response({ 'sec-websocket-protocol': 'chat, superchat' }, ['chat', 'superchat']), 101, 'two chosen', 'Server sent an invalid subprotocol');
    assertHandshakeError(() => response({}, ['chat']), 101, 'none chosen', 'Server sent no subprotocol');
  });

  void test('an invalid extension header → HandshakeError', () => {
    assertHandshakeError(() => response({ 'sec-websocket-extensions': 'permessage-deflate; =1' }), 101, 'unparsable', 'Invalid Sec-WebSocket-Extensions header');
  });
});
