/**
 * The server's state: ready exactly when listening, not shutting down and the adapter not unhealthy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerState } from '../../src/server/server-state.js';

void test('ready: listening, not shutting down, and an adapter that is healthy or cannot tell', () => {
  let healthy: boolean | undefined;
  const state = new ServerState(() => healthy);
  assert.equal(state.ready, false, 'not yet listening');
  state.listening = true;
  assert.equal(state.ready, true, 'an adapter that cannot tell counts as healthy');
  healthy = false;
  assert.equal(state.ready, false, 'an unhealthy adapter');
  healthy = true;
  assert.equal(state.ready, true);
  state.shuttingDown = true;
  assert.equal(state.ready, false, 'shutting down');
  assert.ok(state.startedAt <= Date.now());
});
