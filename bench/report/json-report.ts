/** The JSON document written to bench-results/latest.json (and printed with --json-only). */
import type { BenchOptions } from '../cli-options.js';
import type { MachineInfo } from '../machine.js';
import type { Impl, WorkloadResult } from '../workloads/types.js';
import type { FigureRow, Summary } from './summary.js';

/** Bumped when the shape changes, so a consumer can tell. */
export const REPORT_SCHEMA = 1;

/** A figure row as JSON has it: missing values are null rather than absent. */
export type JsonFigure = Omit<FigureRow, 'parley' | 'ws' | 'ratio'> & {
  readonly parley: number | null;
  readonly ws: number | null;
  readonly ratio: number | null;
};

/** Everything a run produced. */
export interface JsonReport {
  readonly schema: number;
  readonly date: string;
  readonly wallSeconds: number;
  /** True when both slots imported the same module: ratios should then be ≈ 1. */
  readonly harnessCheck: boolean;
  readonly modules: Readonly<Record<Impl, string>>;
  readonly settings: {
    readonly quick: boolean;
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly slicesPerSide: number;
    readonly generatorWorkers: number;
    readonly idleConnections: number;
  };
  readonly machine: MachineInfo & { readonly loadAverageAtEnd: number };
  /** Caveats the figures carry. */
  readonly notes: readonly string[];
  /** The table's rows; a missing value or ratio is null. */
  readonly figures: readonly JsonFigure[];
  readonly workloads: readonly WorkloadResult[];
  readonly verificationFailures: number;
  readonly missing: readonly string[];
  readonly errors: readonly string[];
  readonly ok: boolean;
}

/**
 * Builds the report.
 * @param parts - what the run knows at its end
 * @returns the document
 */
export function buildJsonReport(parts: {
  readonly options: BenchOptions;
  readonly modules: Readonly<Record<Impl, string>>;
  readonly machine: MachineInfo;
  readonly loadAverageAtEnd: number;
  readonly date: Date;
  readonly wallSeconds: number;
  readonly notes: readonly string[];
  readonly results: readonly WorkloadResult[];
  readonly summary: Summary;
}): JsonReport {
  const { options, summary } = parts;
  return {
    schema: REPORT_SCHEMA,
    date: parts.date.toISOString(),
    wallSeconds: parts.wallSeconds,
    harnessCheck: parts.modules.parley === parts.modules.ws,
    modules: parts.modules,
    settings: {
      quick: options.quick,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      slicesPerSide: options.slices,
      generatorWorkers: options.workers,
      idleConnections: options.idleConnections,
    },
    machine: { ...parts.machine, loadAverageAtEnd: parts.loadAverageAtEnd },
    notes: parts.notes,
    figures: summary.rows.map((row) => ({ ...row, parley: row.parley ?? null, ws: row.ws ?? null, ratio: row.ratio ?? null })),
    workloads: parts.results,
    verificationFailures: summary.verificationFailures,
    missing: summary.missing,
    errors: summary.errors,
    ok: summary.ok,
  };
}
