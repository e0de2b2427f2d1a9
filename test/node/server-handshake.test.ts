/**
 * The Node side of the server's opening handshake (RFC 6455 §4.2): the accept value, the view of
 * the request's headers the protocol core reads, and port mode's answer to a request that is no
 * upgrade.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { acceptKey } from '../../src/protocol/handshake.js';
import { answerPlainRequest, headerLookup, serverAcceptKey } from '../../src/node/server-handshake.js';

void describe('serverAcceptKey', () => {
  void test('equals the protocol core acceptKey: the RFC 6455 §1.3 example and 500 random keys', () => {
    const sha1 = (s: string): Uint8Array => createHash('sha1').update(s).digest();
    assert.equal(serverAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    for (let i = 0; i < 500; i++) {
      const key = randomBytes(16).toString('base64');
      assert.equal(serverAcceptKey(key), acceptKey(key, sha1), key);
    }
  });
});

void describe('headerLookup', () => {
  void test('reads own headers only; repeated ones are joined with ", "', () => {
    const headers = JSON.parse('{"__proto__": "x", "host": "a", "sec-websocket-protocol": ["chat", "superchat"]}') as http.IncomingHttpHeaders;
    const header = headerLookup(headers);
    assert.equal(header('host'), 'a');
    assert.equal(header('sec-websocket-protocol'), 'chat, superchat');
    assert.equal(header('__proto__'), 'x', 'an own property named __proto__ is a header like any other');
    assert.equal(header('constructor'), undefined, 'inherited properties are no headers');
    assert.equal(header('toString'), undefined);
    assert.equal(header('origin'), undefined);
  });
});

void describe('answerPlainRequest (port mode, a request without the upgrade tokens)', () => {
  /** The request listener run against a recording response. */
  function answer(headers: http.IncomingHttpHeaders): { status: number; headers: Record<string, unknown>; body: string; keepAlive: boolean } {
    const seen = { status: 0, headers: {} as Record<string, unknown>, body: '', keepAlive: true };
    const res = {
      set shouldKeepAlive(v: boolean) { seen.keepAlive = v; },
      writeHead(status: number, h: Record<string, unknown>) { seen.status = status; seen.headers = h; },
      end(body: string) { seen.body = body; },
    };
    answerPlainRequest({ headers } as http.IncomingMessage, res as unknown as http.ServerResponse);
    return seen;
  }

  void test('plain HTTP → 426 Upgrade Required naming version 13; the connection closes', () => {
    const r = answer({ host: 'x' });
    assert.equal(r.status, 426);
    assert.equal(r.body, 'Upgrade Required');
    assert.equal(r.headers['Sec-WebSocket-Version'], '13');
    assert.equal(r.headers['Connection'], 'close');
    assert.equal(r.headers['Content-Length'], r.body.length);
    assert.equal(r.keepAlive, false);
  });

  void test('a request with a WebSocket key but broken Upgrade/Connection → 400, no version header', () => {
    const r = answer({ host: 'x', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    assert.equal(r.status, 400);
    assert.equal(r.body, 'missing or invalid Upgrade/Connection header');
    assert.equal(r.headers['Sec-WebSocket-Version'], undefined);
    assert.equal(r.keepAlive, false);
  });
});
