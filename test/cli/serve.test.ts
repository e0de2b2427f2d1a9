/**
 * `parley serve` at start: a taken port and a data directory another server holds are reported
 * with the way out (--port / PARLEY_PORT, --data-dir / PARLEY_DATA_DIR), the port first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defer } from '../node/helpers.js';
import { runCli, spawnCli, watch } from './helpers.js';

void test('a taken port is reported with --port and PARLEY_PORT, before the data directory is touched', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const { port } = blocker.address() as AddressInfo;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-serve-'));
  defer(t, () => rmSync(dataDir, { recursive: true, force: true }));
  const r = await runCli(t, ['serve', '--port', String(port), '--data-dir', dataDir, '--log-level', 'silent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^parley serve: port ${port} on 127\\.0\\.0\\.1 is already in use.*--port N \\(or PARLEY_PORT=N`, 'm'));
  assert.doesNotMatch(r.stderr, /EADDRINUSE|at .*\.js/);
});

void test('a second server on the same data directory is told to use --data-dir', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-serve-'));
  defer(t, () => rmSync(dataDir, { recursive: true, force: true }));
  const first = spawnCli(t, ['serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
  await watch(first.stdout).waitFor(/listening on http:/, 15_000);
  const r = await runCli(t, ['serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`is in use by process ${first.pid}: another server uses the data directory .*--data-dir DIR \\(or PARLEY_DATA_DIR\\)`));
});
