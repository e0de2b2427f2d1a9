/** The vocabulary shared by workloads, the runner and the reports. */
import type { Progress } from '../progress.js';

/** The two slots every workload compares. */
export type Impl = 'parley' | 'ws';

/** A figure a workload produces for each implementation. */
export interface FigureDef {
  /** Stable key, used in the JSON. */
  readonly key: string;
  /** What the table shows. */
  readonly label: string;
  /** Unit of the value. */
  readonly unit: string;
  /** Which direction is better: ratios below 1 are better for 'lower'. */
  readonly better: 'higher' | 'lower';
}

/** What a workload needs to know about the run. */
export interface RunContext {
  /** Seconds of the measured window. */
  readonly durationSeconds: number;
  /** Seconds of traffic before a side's first slice. */
  readonly warmupSeconds: number;
  /** Measured slices per side, alternating between the sides; they share durationSeconds. */
  readonly slices: number;
  /** The short CI-sized run. */
  readonly quick: boolean;
  /** Generator worker threads. */
  readonly workers: number;
  /** Connections of the idle-memory workload. */
  readonly idleConnections: number;
  /** The soft open-files limit (`ulimit -n`) children inherit, when it could be read. */
  readonly openFileLimit: number | undefined;
  /** The module each slot's server imports. */
  readonly modules: Readonly<Record<Impl, string>>;
  /** Where servers listen. */
  readonly host: string;
  /** Progress lines on stderr. */
  readonly progress: Progress;
}

/** One implementation's run of one workload. */
export interface RunRecord {
  readonly impl: Impl;
  /** The module its server imported. */
  readonly module: string;
  readonly serverPid: number;
  /** Whether bufferutil loaded in its server process. */
  readonly bufferutil: boolean;
  /** Measured seconds, summed over slices (0 for memory readings). */
  readonly windowSeconds: number;
  /** Verified messages, deliveries, handshakes or connections. */
  readonly verified: number;
  /** Messages the generator wrote in the window. */
  readonly sent: number;
  /** Verified payload bytes in the window. */
  readonly bytes: number;
  /** Failed verifications and broken connections over the whole run. */
  readonly failures: number;
  readonly failureSamples: readonly string[];
  /** Server CPU seconds (user + system) in the windows. */
  readonly serverCpuSeconds: number;
  /** Orchestrator process CPU seconds in the window: the generator workers plus an idle main thread. */
  readonly generatorCpuSeconds: number;
  /** The figures, by {@link FigureDef.key}. */
  readonly values: Readonly<Record<string, number>>;
  /** Workload-specific details for the JSON. */
  readonly details: Readonly<Record<string, number | string | boolean>>;
}

/** One side's run of a workload: its record, or why there is none. */
export type RunOutcome = { readonly ok: true; readonly record: RunRecord } | { readonly ok: false; readonly error: string };

/** One workload's outcome across both implementations. */
export interface WorkloadResult {
  readonly name: string;
  readonly title: string;
  readonly figures: readonly FigureDef[];
  /** The order the implementations ran in. */
  readonly order: readonly Impl[];
  readonly runs: Partial<Record<Impl, RunRecord>>;
  /** Why a run produced no figures, per implementation. */
  readonly errors: Partial<Record<Impl, string>>;
}

/** A benchmark workload: runs against one implementation at a time. */
export interface Workload {
  /** Name used by --only. */
  readonly name: string;
  /** One-line description. */
  readonly title: string;
  /** The figures it produces. */
  readonly figures: readonly FigureDef[];
  /** Left out of a `--quick` run unless named with --only (it would break the CI time budget). */
  readonly notInQuick?: boolean;
  /**
   * Runs against both implementations, each in a fresh server process of its own.
   * @param context - the run's settings
   * @param order - which side goes first
   * @returns each side's record (every figure in {@link Workload.figures} set) or error
   */
  run(context: RunContext, order: readonly Impl[]): Promise<Record<Impl, RunOutcome>>;
}
