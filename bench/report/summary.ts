/** Collects the figures of every workload into table rows and decides whether the run passed. */
import type { FigureDef, WorkloadResult } from '../workloads/types.js';

/** One row of the table: a figure for both slots and their ratio. */
export interface FigureRow extends FigureDef {
  readonly workload: string;
  readonly parley: number | undefined;
  readonly ws: number | undefined;
  /** parley / ws; undefined when either is missing. */
  readonly ratio: number | undefined;
}

/** The verdict of a run. */
export interface Summary {
  readonly rows: readonly FigureRow[];
  /** Failed verifications and broken connections, over all runs. */
  readonly verificationFailures: number;
  /** Figure keys with no finite value for a slot, as `key (impl)`. */
  readonly missing: readonly string[];
  /** Runs that threw, as `workload (impl): message`. */
  readonly errors: readonly string[];
  /** True when nothing failed and nothing is missing. */
  readonly ok: boolean;
}

const finite = (value: number | undefined): number | undefined =>
  value !== undefined && Number.isFinite(value) ? value : undefined;

/**
 * Summarizes the results.
 * @param results - every workload's result
 * @returns rows and verdict
 */
export function summarize(results: readonly WorkloadResult[]): Summary {
  const rows: FigureRow[] = [];
  const missing: string[] = [];
  const errors: string[] = [];
  let verificationFailures = 0;
  for (const result of results) {
    for (const [impl, message] of Object.entries(result.errors)) errors.push(`${result.name} (${impl}): ${message}`);
    for (const run of Object.values(result.runs)) verificationFailures += run.failures;
    for (const figure of result.figures) {
      const parley = finite(result.runs.parley?.values[figure.key]);
      const ws = finite(result.runs.ws?.values[figure.key]);
      if (parley === undefined) missing.push(`${figure.key} (parley)`);
      if (ws === undefined) missing.push(`${figure.key} (ws)`);
      const ratio = parley !== undefined && ws !== undefined && ws !== 0 ? parley / ws : undefined;
      rows.push({ ...figure, workload: result.name, parley, ws, ratio });
    }
  }
  return {
    rows,
    verificationFailures,
    missing,
    errors,
    ok: verificationFailures === 0 && missing.length === 0 && errors.length === 0,
  };
}
