/**
 * The server's shutdown sequence: it runs once (every call gets the same drain), is not ready
 * from its first step, and stops listening at its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { serve, v1 } from './helpers.js';

void test('close() runs once: a second call gets the same result; the port is closed after it', async (t) => {
  const s = await serve(t, { apps: [] });
  const client = await v1(t, s.wsUrl);
  const first = s.handle.close({ code: 1001, timeoutMs: 1000 });
  const second = s.handle.close({ code: 1012 });
  assert.equal(first, second);
  // From the first step on the state says shutting down (/readyz 503, upgrades refused:
  // shutdown.test.ts watches them during a drain).
  assert.equal(s.handle.ready, false);
  const [code] = await client.closed;
  assert.equal(code, 1001, 'the first call\'s code');
  const result = await first;
  assert.deepEqual(result, { closed: 1, terminated: 0 });
  assert.equal(s.handle.ready, false);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(s.port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
  assert.equal(refused, true, 'no longer listening');
});
