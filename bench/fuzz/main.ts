/**
 * `npm run fuzz -- --minutes N`: the fuzz properties of test/fuzz/properties/ with a time budget
 * instead of CI's fixed run counts. The budget is shared equally by the properties, round-robin in
 * slices; inside a slice a property runs batches with fresh seeds until its time is up (sync
 * properties also carry fast-check's `interruptAfterTimeLimit`). Progress every ~15 s, a final
 * verdict, exit 1 on any failure with the seed, the replay path and the fully shrunk
 * counterexample. Known bugs (todo tests) are listed but not run unless `--include-known`.
 */
import { parseArgs } from 'node:util';
import type { BatchResult, FuzzProperty } from '../../test/fuzz/property.js';
import { frameProperties } from '../../test/fuzz/properties/frames.js';
import { handshakeProperties } from '../../test/fuzz/properties/handshake.js';
import { utf8Properties } from '../../test/fuzz/properties/utf8.js';
import { inflateKnownBugs, inflateProperties } from '../../test/fuzz/properties/inflate.js';
import { negotiationProperties } from '../../test/fuzz/properties/negotiation.js';
import { envelopeProperties } from '../../test/fuzz/properties/envelope.js';
import { nodeReceiveProperties } from '../../test/fuzz/properties/node-receive.js';

const USAGE = `usage: npm run fuzz -- [options]   (or: node dist/bench/fuzz/main.js [options])

  --minutes N          total time budget, shared by the properties (default 10)
  --seed S             base seed (default: random; printed); batch k of a run uses S + k
  --only TEXT          run only properties whose name contains TEXT (repeatable)
  --include-known      also run the properties of known, still open bugs (todo tests)
  --replay NAME:SEED[:PATH]
                       replay one batch of one property (and shrink its failure), then exit
  --list               list the properties and exit
  --help`;

const ASYNC = new Set(['inflate/single-message', 'inflate/bombs', 'inflate/sequences', 'inflate/bfinal-and-pool', 'node/receive-path']);
/** Shrinking after a failure found under a time limit gets this long. */
const SHRINK_MS = 120_000;
const PROGRESS_MS = 15_000;

interface Stats {
  p: FuzzProperty;
  runs: number;
  batches: number;
  ms: number;
  failure: { seed: number; path: string | null; report: string } | undefined;
  /** Runs per batch, adapted so that a batch takes about a second. */
  batchRuns: number;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function stamp(t0: number): string {
  const s = (performance.now() - t0) / 1000;
  return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${(s % 60).toFixed(0).padStart(2, '0')}]`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      seed: { type: 'string' },
      only: { type: 'string', multiple: true },
      'include-known': { type: 'boolean', default: false },
      replay: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new RangeError(`--minutes must be a positive number, got ${values.minutes}`);
  const known = inflateKnownBugs;
  const all = [...frameProperties, ...handshakeProperties, ...utf8Properties, ...inflateProperties, ...negotiationProperties, ...envelopeProperties, ...nodeReceiveProperties];
  const everything = [...all, ...known];

  if (values.list) {
    for (const p of all) console.log(`${p.name.padEnd(30)} ${p.description}`);
    for (const p of known) console.log(`${p.name.padEnd(30)} KNOWN BUG (todo): ${p.description}`);
    return 0;
  }

  // Anything thrown outside a property's own promise is a failure of whatever was running.
  let current = '(none)';
  const stray: string[] = [];
  process.on('uncaughtException', (error) => stray.push(`${current}: uncaught ${error.stack ?? String(error)}`));
  process.on('unhandledRejection', (reason) => stray.push(`${current}: unhandled rejection ${String(reason)}`));

  if (values.replay !== undefined) {
    const [name = '', seedText = '', ...pathParts] = values.replay.split(':');
    const p = everything.find((x) => x.name === name);
    if (p === undefined) throw new RangeError(`no property named ${name}`);
    current = name;
    const r = await p.run({ seed: Number(seedText), numRuns: 1_000_000, ...(pathParts.length > 0 ? { path: pathParts.join(':') } : {}) });
    console.log(r.failed ? `FAILED\n${r.report ?? ''}` : `passed ${fmt(r.runs)} runs`);
    return r.failed ? 1 : 0;
  }

  const filters = values.only ?? [];
  const selected = (values['include-known'] ? everything : all).filter((p) => filters.length === 0 || filters.some((f) => p.name.includes(f)));
  if (selected.length === 0) throw new RangeError('no property selected');
  const baseSeed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const budgetMs = minutes * 60_000;
  const t0 = performance.now();
  const deadline = t0 + budgetMs;
  const stats: Stats[] = selected.map((p) => ({ p, runs: 0, batches: 0, ms: 0, failure: undefined, batchRuns: Math.max(10, Math.round(p.ciRuns / 4)) }));
  let batchCounter = 0;
  let lastProgress = t0;

  console.log(`fuzz: ${selected.length} properties, ${minutes} min, base seed ${baseSeed}${known.length > 0 && !values['include-known'] ? `; known bugs not run: ${known.map((k) => k.name).join(', ')}` : ''}`);

  const progress = (force: boolean): void => {
    const now = performance.now();
    if (!force && now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    const total = stats.reduce((n, s) => n + s.runs, 0);
    const failed = stats.filter((s) => s.failure !== undefined).length + (stray.length > 0 ? 1 : 0);
    const mem = process.memoryUsage();
    console.log(`${stamp(t0)} ${fmt(total)} runs, ${failed} failing, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB | ${stats.map((s) => `${s.p.name.split('/')[1]} ${fmt(s.runs)}${s.failure !== undefined ? ' FAIL' : ''}`).join(', ')}`);
  };

  // Round-robin: each round gives every live property an equal share of what is left.
  while (performance.now() < deadline) {
    const live = stats.filter((s) => s.failure === undefined);
    if (live.length === 0) break;
    const left = deadline - performance.now();
    const slice = Math.max(500, Math.min(5_000, left / live.length));
    for (const s of live) {
      const sliceEnd = Math.min(deadline, performance.now() + slice);
      while (performance.now() < sliceEnd && s.failure === undefined) {
        const seed = (baseSeed + batchCounter++) | 0;
        current = `${s.p.name} (seed ${seed})`;
        const started = performance.now();
        const limit = Math.max(50, sliceEnd - started);
        const r: BatchResult = await s.p.run({ seed, numRuns: s.batchRuns, ...(ASYNC.has(s.p.name) ? {} : { timeLimitMs: limit }) });
        const took = performance.now() - started;
        s.runs += r.runs;
        s.batches++;
        s.ms += took;
        if (r.failed) {
          console.log(`${stamp(t0)} FAILURE in ${s.p.name}, seed ${r.seed}, path ${r.path ?? ''}: shrinking fully…`);
          // Replay the failing case alone, without a time limit, so that it shrinks all the way.
          const replay = await Promise.race([
            s.p.run({ seed: r.seed, numRuns: s.batchRuns, ...(r.path !== null ? { path: r.path } : {}) }),
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), SHRINK_MS).unref()),
          ]);
          const best = replay?.failed === true ? replay : r;
          s.failure = { seed: best.seed, path: best.path, report: best.report ?? '' };
          console.log(best.report ?? '');
        } else if (took < 600 && r.runs === s.batchRuns) {
          s.batchRuns = Math.min(1_000_000, s.batchRuns * 2);
        } else if (took > 2_000 && s.batchRuns > 1) {
          s.batchRuns = Math.max(1, Math.floor(s.batchRuns / 2));
        }
        progress(false);
      }
    }
  }
  current = '(done)';
  progress(true);

  const elapsedMin = (performance.now() - t0) / 60_000;
  const totalRuns = stats.reduce((n, s) => n + s.runs, 0);
  console.log('\nproperty                        runs         batches  ms/run   result');
  for (const s of stats) {
    console.log(`${s.p.name.padEnd(31)} ${fmt(s.runs).padStart(12)} ${String(s.batches).padStart(8)} ${(s.runs > 0 ? s.ms / s.runs : 0).toFixed(3).padStart(8)}   ${s.failure === undefined ? 'ok' : `FAILED (seed ${s.failure.seed}, path ${s.failure.path ?? ''})`}`);
  }
  const failures = stats.filter((s) => s.failure !== undefined);
  for (const line of stray) console.log(`stray error: ${line}`);
  if (failures.length === 0 && stray.length === 0) {
    console.log(`\nfuzz verdict: PASS: ${stats.length} properties, ${fmt(totalRuns)} runs in ${elapsedMin.toFixed(1)} min, 0 failures (base seed ${baseSeed})`);
    return 0;
  }
  console.log(`\nfuzz verdict: FAIL: ${failures.length + (stray.length > 0 ? 1 : 0)} failing of ${stats.length} properties, ${fmt(totalRuns)} runs in ${elapsedMin.toFixed(1)} min (base seed ${baseSeed})`);
  for (const s of failures) {
    console.log(`\n--- ${s.p.name}: replay with  npm run fuzz -- --replay '${s.p.name}:${s.failure!.seed}${s.failure!.path !== null ? `:${s.failure!.path}` : ''}'\n${s.failure!.report}`);
  }
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Pooled zlib streams and timers must not keep the process alive after the verdict.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exit(2);
  },
);
