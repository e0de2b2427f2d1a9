/**
 * The handshake record: made only when the handshake set something other than the defaults;
 * the request and permessage-deflate's parameters are handed over once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientRequest } from 'node:http';
import { kHandshake } from '../../src/node/internal.js';
import { setNegotiated, setRequest, takeDeflateSetup, takeRequest, type HandshakeHost } from '../../src/node/handshake-record.js';
import type { DeflateSetup } from '../../src/node/deflate-codec.js';

const request = { destroy() {} } as unknown as ClientRequest;
const deflate = { params: {}, settings: {} } as unknown as DeflateSetup;

void describe('handshake record', () => {
  void test('a server connection with no subprotocol and no extension gets no record', () => {
    const ws: HandshakeHost = { [kHandshake]: undefined };
    setNegotiated(ws, '', '', undefined);
    assert.equal(ws[kHandshake], undefined);
    assert.equal(takeDeflateSetup(ws), undefined);
    assert.equal(takeRequest(ws), undefined);
  });

  void test('a subprotocol or an extension is recorded', () => {
    const ws: HandshakeHost = { [kHandshake]: undefined };
    setNegotiated(ws, 'chat', 'permessage-deflate', deflate);
    assert.equal(ws[kHandshake]?.protocol, 'chat');
    assert.equal(ws[kHandshake]?.extensions, 'permessage-deflate');
    assert.equal(ws[kHandshake]?.url, '');
    assert.equal(takeDeflateSetup(ws), deflate);
    assert.equal(takeDeflateSetup(ws), undefined, 'handed over once');
    assert.equal(ws[kHandshake]?.protocol, 'chat', 'what the getters read stays');
  });

  void test('the client request is recorded with its URL and redirects, and handed over once', () => {
    const ws: HandshakeHost = { [kHandshake]: undefined };
    setRequest(ws, request, 'ws://a.example/', 0);
    setRequest(ws, request, 'ws://b.example/', 1);
    assert.equal(ws[kHandshake]?.url, 'ws://b.example/');
    assert.equal(ws[kHandshake]?.redirects, 1);
    // All defaults negotiated, after a request: the record exists and is updated.
    setNegotiated(ws, '', '', undefined);
    assert.equal(ws[kHandshake]?.protocol, '');
    assert.equal(takeRequest(ws), request);
    assert.equal(takeRequest(ws), undefined);
  });

  void test('the upgrade forgets the request', () => {
    const ws: HandshakeHost = { [kHandshake]: undefined };
    setRequest(ws, request, 'ws://a.example/', 0);
    assert.equal(takeDeflateSetup(ws), undefined);
    assert.equal(ws[kHandshake]?.request, undefined);
    assert.equal(ws[kHandshake]?.url, 'ws://a.example/');
  });
});
