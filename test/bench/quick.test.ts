/**
 * Smoke run of the benchmark (`--quick`), so it never rots: every figure must be produced for
 * both Parley and ws and every reply verified. It asserts no speed: speed is for `npm run bench`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Report {
  ok: boolean;
  verificationFailures: number;
  missing: string[];
  errors: string[];
  figures: Array<{ key: string; parley: number | null; ws: number | null }>;
}

/** Runs the benchmark with `--quick --json-only` and the given options, and checks its report. */
function runQuick(options: readonly string[], minimumFigures: number): void {
  const out = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  try {
    const result = spawnSync(process.execPath, [join(root, 'dist/bench/main.js'), '--quick', '--json-only', '--out', out, ...options], {
      cwd: root,
      encoding: 'utf8',
      timeout: 170_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.equal(result.status, 0, `bench exited ${String(result.status)}\n${result.stderr.slice(-4000)}`);
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(report.ok, true, `report not ok: ${JSON.stringify({ missing: report.missing, errors: report.errors, failures: report.verificationFailures })}`);
    assert.equal(report.verificationFailures, 0);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.errors, []);
    assert.ok(report.figures.length >= minimumFigures, `only ${report.figures.length} figures`);
    for (const f of report.figures) {
      assert.ok(typeof f.parley === 'number' && Number.isFinite(f.parley) && f.parley > 0, `${f.key}: parley ${String(f.parley)}`);
      assert.ok(typeof f.ws === 'number' && Number.isFinite(f.ws) && f.ws > 0, `${f.key}: ws ${String(f.ws)}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

void test('npm run bench -- --quick produces every figure with every reply verified', { timeout: 180_000 }, () => {
  runQuick([], 10);
});

// The floor servers back the claims in docs/benchmarks.md about what Node allows; their replies
// are verified like Parley's, across split frames (16 MiB), closes (handshakes) and idle sockets.
for (const floor of ['floor', 'floor-raw']) {
  void test(`the ${floor} server passes the generator's verification`, { timeout: 180_000 }, () => {
    runQuick(['--parley-module', floor, '--only', 'echo-1k,large-16m,handshakes,idle-memory'], 4);
  });
}
