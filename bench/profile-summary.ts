/**
 * Where a server's CPU time went, from `node --cpu-prof` profiles of the benchmark servers:
 *
 *     PARLEY_BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node dist/bench/main.js --only echo-32
 *     node dist/bench/profile-summary.js /tmp/prof/*.cpuprofile
 *
 * Self time of every sample is put in one bucket by the code it was in: the WebSocket library
 * (Parley's `dist/src`, `ws`, the floor servers), Node's JavaScript by area (streams, net and
 * stream_base, http, events and timers, other), native functions called from JavaScript (the
 * socket writes and reads, where the system calls are made), the garbage collector, and
 * `(program)` (native work outside JavaScript: libuv, the HTTP parser's callbacks, V8). Idle time
 * is left out of the shares. The point is the split between what a library controls and what
 * Node's socket layer costs, for docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The parts of V8's `.cpuprofile` format read here. */
interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
  }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * The bucket a function belongs to.
 * @param functionName - V8's name for it
 * @param url - its script, empty for native functions
 * @returns the bucket's name
 */
export function bucketOf(functionName: string, url: string): string {
  if (url === '') {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName.startsWith('(')) return '(program): libuv, V8, native callbacks';
    return 'native functions (socket reads and writes, system calls)';
  }
  if (url.includes('/node_modules/ws/')) return 'library: ws';
  if (url.includes('/node_modules/bufferutil/') || url.includes('/node_modules/utf-8-validate/')) return 'library: ws';
  if (url.includes('/dist/src/')) return 'library: parley';
  if (url.includes('/dist/bench/servers/floor')) return 'library: floor';
  if (url.includes('/dist/bench/')) return 'bench server harness';
  if (url.startsWith('node:internal/streams/')) return 'node: streams';
  if (url === 'node:net' || url.startsWith('node:internal/stream_base') || url.startsWith('node:internal/net')) return 'node: net, stream_base';
  if (url.startsWith('node:_http') || url.startsWith('node:internal/http') || url === 'node:http') return 'node: http';
  if (url === 'node:events' || url.startsWith('node:internal/timers') || url.startsWith('node:internal/process/') || url.startsWith('node:internal/async_hooks')) {
    return 'node: events, timers, ticks';
  }
  if (url.startsWith('node:')) return 'node: other';
  return 'other';
}

/**
 * Self time per bucket of one profile, in microseconds.
 * @param profile - a parsed `.cpuprofile`
 * @returns bucket → microseconds
 */
export function summarize(profile: CpuProfile): Map<string, number> {
  const bucketById = new Map<number, string>();
  for (const node of profile.nodes) bucketById.set(node.id, bucketOf(node.callFrame.functionName, node.callFrame.url));
  const totals = new Map<string, number>();
  // timeDeltas[i] is the time before sample i; it is charged to that sample's function.
  for (let i = 0; i < profile.samples.length; i++) {
    const bucket = bucketById.get(profile.samples[i]!) ?? 'other';
    totals.set(bucket, (totals.get(bucket) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  return totals;
}

function main(files: readonly string[]): void {
  if (files.length === 0) {
    process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [...]\n');
    process.exitCode = 2;
    return;
  }
  for (const file of files) {
    const totals = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const busy = [...totals].filter(([bucket]) => bucket !== 'idle').reduce((sum, [, us]) => sum + us, 0);
    process.stdout.write(`\n${basename(file)}: ${(busy / 1000).toFixed(0)} ms busy, ${((totals.get('idle') ?? 0) / 1000).toFixed(0)} ms idle\n`);
    const rows = [...totals].filter(([bucket]) => bucket !== 'idle').sort((a, b) => b[1] - a[1]);
    for (const [bucket, us] of rows) {
      process.stdout.write(`  ${bucket.padEnd(58)} ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %\n`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(basename(process.argv[1]))) main(process.argv.slice(2));
