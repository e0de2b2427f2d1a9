/** Request ids of the client (src/client/ids.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIdSource } from '../../src/client/ids.js';
import { MIN_ANONYMOUS_CLUSTER_ID } from '../../src/realtime/session.js';

void test('ids are <random prefix>.<n>, long enough to be remembered cluster-wide for an anonymous client, and differ between clients', () => {
  const a = createIdSource();
  const b = createIdSource();
  const first = String(a());
  assert.match(first, /^[0-9a-z]{16}\.1$/);
  assert.ok(first.length >= MIN_ANONYMOUS_CLUSTER_ID);
  assert.equal(String(a()), `${first.slice(0, 16)}.2`);
  assert.notEqual(String(b()).slice(0, 16), first.slice(0, 16));
});
