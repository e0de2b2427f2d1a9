/**
 * The capacity benchmark, CI-sized: a few hundred connections from two source addresses, two
 * broadcasts. Checks that the harness fills, measures and reports; the 100,000-connection run is
 * `npm run bench:capacity` (docs/benchmarks.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

interface Report {
  connections: number;
  open: number;
  workers: number;
  clientProcs: number;
  handshakesPerSecond: number;
  bytesPerConnection: number;
  broadcasts: { delivered: number; p50: number; p99: number; max: number }[];
}

void test('bench:capacity fills, measures resident memory and times a broadcast to every connection', { timeout: 120_000 }, () => {
  const run = spawnSync(process.execPath, ['dist/bench/capacity/main.js', '--connections', '400', '--workers', '1', '--client-procs', '2', '--broadcasts', '2'], { encoding: 'utf8', timeout: 110_000 });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as Report;
  assert.equal(report.connections, 400);
  assert.equal(report.open, 400, 'every connection subscribed');
  assert.equal(report.clientProcs, 2);
  assert.ok(report.handshakesPerSecond > 0);
  assert.ok(Number.isFinite(report.bytesPerConnection));
  assert.equal(report.broadcasts.length, 2);
  for (const b of report.broadcasts) {
    assert.equal(b.delivered, 400, 'each broadcast reached every connection');
    assert.ok(b.p50 >= 0 && b.p50 <= b.p99 && b.p99 <= b.max, JSON.stringify(b));
  }
  assert.match(run.stderr, /filled: 400 open/);
});

void test('bench:capacity refuses an unknown option with its usage, not a stack trace', () => {
  const run = spawnSync(process.execPath, ['dist/bench/capacity/main.js', '--conections', '5'], { encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /Unknown option '--conections'/);
  assert.match(run.stderr, /usage: npm run bench:capacity/);
  assert.doesNotMatch(run.stderr, /at parseArgs/);
});
