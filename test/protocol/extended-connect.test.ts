/** RFC 8441's handshake, both roles, without I/O. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeError, extendedConnectResponseHeaders, isExtendedConnect, validateExtendedConnect, validateExtendedConnectResponse, type HeaderLookup } from '../../src/protocol/index.js';

const lookup = (h: Record<string, string>): HeaderLookup => (name) => h[name];
const valid = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat', ':authority': 'example.test', 'sec-websocket-version': '13' };

void test('an extended CONNECT is :method CONNECT with :protocol websocket (RFC 8441 §4), case-insensitive token', () => {
  assert.equal(isExtendedConnect(lookup(valid)), true);
  assert.equal(isExtendedConnect(lookup({ ...valid, ':protocol': 'WebSocket' })), true);
  assert.equal(isExtendedConnect(lookup({ ...valid, ':method': 'GET' })), false);
  assert.equal(isExtendedConnect(lookup({ ...valid, ':protocol': 'webtransport' })), false);
  const { ':protocol': _p, ...plainConnect } = valid;
  assert.equal(isExtendedConnect(lookup(plainConnect)), false);
});

void test('the request needs no key (RFC 8441 §5); version, subprotocols and extensions are checked as in RFC 6455', () => {
  const r = validateExtendedConnect(lookup({ ...valid, 'sec-websocket-protocol': 'a, b', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }));
  assert.equal(r.key, '');
  assert.deepEqual(r.protocols, ['a', 'b']);
  assert.equal(r.extensions[0]?.name, 'permessage-deflate');
  const bad: Array<Record<string, string>> = [
    { ...valid, 'sec-websocket-version': '8' },
    { ...valid, 'sec-websocket-protocol': 'a, a' },
    { ...valid, 'sec-websocket-protocol': 'a b' },
    { ...valid, 'sec-websocket-extensions': 'permessage-deflate; ;' },
    Object.fromEntries(Object.entries(valid).filter(([k]) => k !== ':path')),
  ];
  for (const h of bad) assert.throws(() => validateExtendedConnect(lookup(h)), (e: unknown) => e instanceof HandshakeError && e.status === 400, JSON.stringify(h));
});

void test('the response: any 2xx accepts, the subprotocol must have been offered', () => {
  assert.deepEqual(extendedConnectResponseHeaders('chat', 'permessage-deflate'), { ':status': '200', 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'permessage-deflate' });
  assert.deepEqual(extendedConnectResponseHeaders(undefined, ''), { ':status': '200' });
  assert.equal(validateExtendedConnectResponse(200, lookup({ 'sec-websocket-protocol': 'chat' }), ['chat']).protocol, 'chat');
  assert.equal(validateExtendedConnectResponse(204, lookup({}), []).protocol, '');
  assert.throws(() => validateExtendedConnectResponse(101, lookup({}), []), HandshakeError);
  assert.throws(() => validateExtendedConnectResponse(404, lookup({}), []), (e: unknown) => e instanceof HandshakeError && e.status === 404);
  assert.throws(() => validateExtendedConnectResponse(200, lookup({ 'sec-websocket-protocol': 'other' }), ['chat']), HandshakeError);
});
