#!/usr/bin/env node
// Runs the compiled test files with Node's own runner. A script rather than a glob in
// package.json because Node 20 and Node 22+ read `node --test` arguments differently
// (paths versus glob patterns). Extra arguments are substrings that select test files.
//
// Files run in parallel, one more than the cores (PARLEY_TEST_CONCURRENCY overrides). Node's
// own default, on 20 and on 24, is one fewer than the cores: a single file at a time on a
// 2-core machine, where the long files mostly wait (on Chromium, on the servers and Redises
// they start, on fixed benchmark windows) rather than compute. Files share nothing that could
// collide: servers listen on port 0, Redis keys sit under a prefix per test, PostgreSQL tables
// in a schema per test, scratch files in mkdtemp directories.
import { availableParallelism } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) files.push(path);
  }
};
walk(root);
const selected = filters.length === 0 ? files : files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (selected.length === 0) {
  console.error(`no test files matched ${filters.join(', ') || 'dist/test/**/*.test.js'} (did the build run?)`);
  process.exit(1);
}
const fromEnv = Number(process.env.PARLEY_TEST_CONCURRENCY);
const concurrency = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.min(availableParallelism() + 1, 8);
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...selected], { stdio: 'inherit' });
process.exit(result.status ?? 1);
