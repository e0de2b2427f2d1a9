#!/usr/bin/env node
// What `npm start` builds: src/ compiled incrementally (tsconfig.start.json, no tests or
// benchmarks) and the browser bundles (scripts/build-web.js). Skipped altogether when no input
// changed since the last such build, which a stamp file in dist/ records: even an incremental
// tsc with nothing to do costs seconds of CPU reading every file, and a start should not.
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const STAMP = 'dist/.start-stamp';
const INPUTS = ['src', 'package.json', 'tsconfig.json', 'tsconfig.start.json', 'tsconfig.web.json', 'scripts/build-web.js', 'scripts/build-start.js'];
const OUTPUTS = ['dist/src/cli/main.js', 'dist/web'];

/** The newest modification time (ms) under `path`. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const stamp = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
if (stamp > 0 && OUTPUTS.every((p) => existsSync(p)) && INPUTS.every((p) => newest(p) < stamp)) {
  console.log('build: up to date (nothing changed since the last start)');
  process.exit(0);
}
// The stamp takes the time the build began: a file saved during the build is built next time.
const began = new Date();
for (const args of [['node_modules/typescript/bin/tsc', '-p', 'tsconfig.start.json'], ['scripts/build-web.js']]) {
  const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
writeFileSync(STAMP, 'inputs of npm start built at this file\'s modification time\n');
utimesSync(STAMP, began, began);
