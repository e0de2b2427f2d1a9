/**
 * The one `Origin` check: a list (empty: any) or same-origin, and a request without `Origin`
 * always passes (RFC 6455 §10.2: the check is against other sites' pages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originAllowed } from '../../src/server/origin.js';
import { sameOrigin } from '../../src/server/app.js';
import type * as http from 'node:http';

const req = (host: string): http.IncomingMessage => ({ headers: { host } }) as http.IncomingMessage;

void test('a list: empty allows any origin, otherwise exactly the listed ones', () => {
  assert.equal(originAllowed([], 'https://evil.example', req('a:1')), true);
  assert.equal(originAllowed(['https://app.example'], 'https://app.example', req('a:1')), true);
  assert.equal(originAllowed(['https://app.example'], 'https://app.example:8443', req('a:1')), false);
  assert.equal(originAllowed(['https://app.example'], 'https://evil.example', req('a:1')), false);
});

void test('same-origin: Origin\'s host must be the Host header; a malformed Origin is refused', () => {
  assert.equal(originAllowed('same-origin', 'http://127.0.0.1:8080', req('127.0.0.1:8080')), true);
  assert.equal(originAllowed('same-origin', 'http://127.0.0.1:9090', req('127.0.0.1:8080')), false);
  assert.equal(originAllowed('same-origin', 'not a url', req('127.0.0.1:8080')), false);
  assert.equal(sameOrigin('https://parley.example', req('parley.example')), true);
  assert.equal(sameOrigin('https://other.example', req('parley.example')), false);
});

void test('a request without Origin (not a browser page) passes every policy', () => {
  assert.equal(originAllowed(['https://app.example'], undefined, req('a:1')), true);
  assert.equal(originAllowed('same-origin', undefined, req('a:1')), true);
});
