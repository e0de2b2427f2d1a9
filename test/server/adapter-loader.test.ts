/**
 * Adapter loading: the configured in-memory adapter is the server's own (closed with it); a given
 * one is shared (named so, never closed by the server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/server/logger.js';
import { InMemoryAdapter } from '../../src/index.js';
import { loadAdapter } from '../../src/server/adapter-loader.js';
import { defaultConfig } from '../../src/server/config.js';

const log = createLogger('silent');

void test('cluster.adapter memory: an in-memory adapter the server owns and closes', async () => {
  const loaded = await loadAdapter(defaultConfig().cluster, log);
  assert.ok(loaded.adapter instanceof InMemoryAdapter);
  assert.equal(loaded.owned, true);
  assert.equal(loaded.kind, 'memory');
  assert.equal(loaded.healthy(), undefined, 'the in-memory adapter cannot tell');
  await loaded.close();
});

void test('a given adapter is shared: reported as such and left open by close()', async () => {
  const given = new InMemoryAdapter();
  let closed = 0;
  const close = given.close.bind(given);
  given.close = () => {
    closed++;
    close();
  };
  const loaded = await loadAdapter(defaultConfig({ cluster: { adapter: 'redis' } }).cluster, log, given);
  assert.equal(loaded.adapter, given, 'no Redis is loaded when an adapter is given');
  assert.equal(loaded.owned, false);
  assert.equal(loaded.kind, 'shared');
  await loaded.close();
  assert.equal(closed, 0);
  given.close();
});
