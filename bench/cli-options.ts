/** The command line of `node dist/bench/main.js`. */
import { parseArgs } from 'node:util';

/** Settings of one benchmark run. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Workload names or family prefixes; empty means all. */
  readonly only: readonly string[];
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Measured slices per side, alternating between the sides. */
  readonly slices: number;
  readonly workers: number;
  readonly idleConnections: number;
  /** What the 'parley' slot imports: 'parley' unless overridden (e.g. 'ws' for a harness check). */
  readonly parleyModule: string;
  /** Print only the JSON document on stdout (progress stays on stderr). */
  readonly jsonOnly: boolean;
  /** Output directory for latest.json and ratios.svg, when not the default. */
  readonly outDir: string | undefined;
  readonly help: boolean;
}

/** A command line that cannot be run; main exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The usage text. */
export const USAGE = `usage: node dist/bench/main.js [options]   (or: npm run bench -- [options])

  --quick                  short run for CI: 1 s windows, 0.3 s warm-up, 1,000 idle connections;
                           broadcast-loop-1000 only when named with --only
  --only NAME[,NAME...]    workloads to run; a family prefix selects all of it (echo, broadcast)
                           names: echo-32 echo-1k echo-64k broadcast-100 broadcast-1000
                                  broadcast-loop-100 broadcast-loop-1000
                                  handshakes idle-memory large-16m latency
  --duration S             measured seconds per side and workload (default 5, --quick 1)
  --warmup S               seconds of traffic before a side's first slice (default 1, --quick 0.3)
  --slices N               measured slices per side, alternating A B B A … and sharing the
                           duration (default 8, --quick 2)
  --workers N              generator worker threads (default 1)
  --idle-connections N     connections of idle-memory (default 10000, --quick 1000)
  --parley-module SPEC     module the 'parley' slot imports (default 'parley', or the
                           PARLEY_BENCH_MODULE variable); 'ws' runs a ws-vs-ws harness check;
                           'floor' runs bench/servers/floor.ts, framing with no checks on
                           Node's http and net.Socket (the least the public API allows);
                           'floor-raw' the same on libuv handles (Node internals)
  --json-only              stdout gets only the JSON document; progress stays on stderr
  --out DIR                where latest.json and ratios.svg go (default bench-results/)
  --help

exit status: 0 every figure measured and every reply verified; 1 a reply failed verification,
a run failed or a figure is missing; 2 bad options or a module that cannot be loaded.`;

function positiveNumber(text: string | undefined, flag: string, fallback: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag} needs a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  }
  return value;
}

/**
 * Parses the command line.
 * @param argv - the arguments after the script
 * @param env - the environment (for PARLEY_BENCH_MODULE)
 * @returns the options
 * @throws UsageError on anything unknown or malformed
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        slices: { type: 'string' },
        workers: { type: 'string' },
        'idle-connections': { type: 'string' },
        'parley-module': { type: 'string' },
        'json-only': { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : 'bad arguments');
  }
  const v = parsed.values;
  const quick = v.quick === true;
  const parleyModule = v['parley-module'] ?? env['PARLEY_BENCH_MODULE'] ?? 'parley';
  if (parleyModule.trim() === '') throw new UsageError('--parley-module is empty');
  return {
    quick,
    only: (v.only ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    durationSeconds: positiveNumber(v.duration, '--duration', quick ? 1 : 5, false),
    warmupSeconds: positiveNumber(v.warmup, '--warmup', quick ? 0.3 : 1, false),
    slices: positiveNumber(v.slices, '--slices', quick ? 2 : 8, true),
    workers: positiveNumber(v.workers, '--workers', 1, true),
    idleConnections: positiveNumber(v['idle-connections'], '--idle-connections', quick ? 1000 : 10_000, true),
    parleyModule,
    jsonOnly: v['json-only'] === true,
    outDir: v.out,
    help: v.help === true,
  };
}

/**
 * The value of option `--name` as a positive number, for the smaller bench scripts
 * (bench/realtime.ts, bench/cluster.ts).
 * @throws Error naming the option when it is missing, not a number, or not positive
 */
export function positiveOption(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}
