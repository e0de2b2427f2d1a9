/**
 * The shape shared by the fuzz tests (test/fuzz/*.test.ts, a short budget in CI) and the long
 * runner (bench/fuzz/main.ts, `npm run fuzz -- --minutes N`): a named fast-check property that
 * either runs a fixed number of times or until a time budget is spent.
 */
import fc from 'fast-check';

/** What one batch of runs found. */
export interface BatchResult {
  /** Runs executed (including the failing one). */
  runs: number;
  failed: boolean;
  /** Seed of the batch: `FUZZ_SEED=<seed>` replays it. */
  seed: number;
  /** fast-check's report: seed, path, the shrunk counterexample and the error. */
  report: string | undefined;
  /** Replay path of the counterexample. */
  path: string | null;
}

/** A property under fuzz. */
export interface FuzzProperty {
  /** Unique name, e.g. `receiver/structured`. */
  readonly name: string;
  /** What is checked, one line. */
  readonly description: string;
  /** Runs in the CI test. */
  readonly ciRuns: number;
  /**
   * Runs the property: at most `numRuns` times, stopping early after `timeLimitMs` when given.
   * `path` replays one counterexample (after a failure found under a time limit, so that it
   * shrinks fully).
   */
  run(options: { seed: number; numRuns: number; timeLimitMs?: number; path?: string }): Promise<BatchResult>;
}

/** Wraps a fast-check property factory (sync or async) as a {@link FuzzProperty}. */
export function defineProperty<Ts>(
  name: string,
  description: string,
  ciRuns: number,
  make: () => fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
): FuzzProperty {
  return {
    name,
    description,
    ciRuns,
    async run({ seed, numRuns, timeLimitMs, path }) {
      const params: fc.Parameters<Ts> = { seed, numRuns, endOnFailure: false };
      if (timeLimitMs !== undefined) params.plugins = [fc.interruptAfterTimeLimit(timeLimitMs) as unknown as fc.Plugin<Ts>];
      if (path !== undefined) params.path = path;
      const details = await fc.check(make(), params);
      return {
        runs: details.numRuns,
        failed: details.failed,
        seed: details.seed,
        report: details.failed ? `${fc.defaultReportMessage(details) ?? ''}\nError: ${errorText(details.errorInstance)}` : undefined,
        path: details.counterexamplePath,
      };
    },
  };
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

/** The seed for this process: `FUZZ_SEED` when set (to replay a failure), else a fresh one. */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n)) throw new RangeError(`FUZZ_SEED must be an integer, got ${fromEnv}`);
    return n;
  }
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
}

/**
 * Runs each property `ciRuns` times (times `FUZZ_RUNS_FACTOR`, default 1) and throws with the
 * seed and the shrunk counterexample on failure: the body of a CI fuzz test.
 */
export async function runInTest(p: FuzzProperty): Promise<void> {
  const seed = fuzzSeed();
  const factor = Number(process.env.FUZZ_RUNS_FACTOR ?? '1');
  const numRuns = Math.max(1, Math.round(p.ciRuns * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
  const path = process.env.FUZZ_PATH;
  const result = await p.run({ seed, numRuns, ...(path !== undefined && path !== '' ? { path } : {}) });
  if (result.failed) {
    throw new Error(`fuzz property ${p.name} failed (replay: FUZZ_SEED=${result.seed} FUZZ_PATH=${result.path ?? ''})\n${result.report ?? ''}`);
  }
}
