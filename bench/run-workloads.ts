/**
 * Runs each selected workload against both implementations (fresh server processes for each),
 * alternating which side goes first from one workload to the next. A failing side is recorded, not
 * thrown: everything else still runs, and the exit status reports it.
 */
import { errorMessage } from './error-message.js';
import type { Impl, RunContext, RunOutcome, RunRecord, Workload, WorkloadResult } from './workloads/types.js';

/** Formats a figure value for a progress line. */
function brief(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? '—' : value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/**
 * Runs the workloads.
 * @param workloads - in run order
 * @param context - settings shared by every run
 * @returns one result per workload
 */
export async function runWorkloads(workloads: readonly Workload[], context: RunContext): Promise<WorkloadResult[]> {
  const results: WorkloadResult[] = [];
  for (const [index, workload] of workloads.entries()) {
    const order: Impl[] = index % 2 === 0 ? ['parley', 'ws'] : ['ws', 'parley'];
    const runs: Partial<Record<Impl, RunRecord>> = {};
    const errors: Partial<Record<Impl, string>> = {};
    context.progress.line(workload.name, '', `${workload.title} (${index + 1}/${workloads.length})`);
    let outcomes: Record<Impl, RunOutcome>;
    try {
      outcomes = await workload.run(context, order);
    } catch (error) {
      const failed: RunOutcome = { ok: false, error: errorMessage(error) };
      outcomes = { parley: failed, ws: failed };
    }
    for (const impl of order) {
      const outcome = outcomes[impl];
      if (!outcome.ok) {
        errors[impl] = outcome.error;
        context.progress.line(workload.name, impl, `ERROR: ${outcome.error}`);
        continue;
      }
      const record = outcome.record;
      runs[impl] = record;
      const figures = workload.figures.map((f) => `${f.unit} ${brief(record.values[f.key])}`).join(', ');
      const failed = record.failures > 0 ? `, ${record.failures} FAILED: ${record.failureSamples[0] ?? ''}` : '';
      context.progress.line(workload.name, impl, `done: ${figures}${failed}`);
    }
    results.push({ name: workload.name, title: workload.title, figures: workload.figures, order, runs, errors });
  }
  return results;
}
