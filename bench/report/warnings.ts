/** Caveats a run's own records raise, for the notes under the tables and in the JSON. */
import type { WorkloadResult } from '../workloads/types.js';

/**
 * Finds runs whose figures need a caveat: a fixed rate that was not sustained, slices whose tail
 * did not drain before the other side's slice, a generator that used (nearly) a full core per
 * worker thread and so may have been the bottleneck.
 * @param results - every workload's result
 * @param workers - generator worker threads
 * @returns one sentence per caveat
 */
export function runWarnings(results: readonly WorkloadResult[], workers: number): string[] {
  const warnings: string[] = [];
  for (const result of results) {
    for (const run of Object.values(result.runs)) {
      const where = `${result.name} (${run.impl})`;
      const { sustained, achievedRate, targetRate, undrainedSlices } = run.details;
      if (sustained === false) {
        warnings.push(
          `${where}: the fixed rate was not sustained (${Number(achievedRate).toFixed(0)} of ${String(targetRate)} msg/s), so its latency is not comparable.`,
        );
      }
      if (typeof undrainedSlices === 'number' && undrainedSlices > 0) {
        warnings.push(`${where}: ${undrainedSlices} slice(s) still had replies outstanding when the other side's slice began.`);
      }
      if (run.windowSeconds > 0 && run.generatorCpuSeconds / run.windowSeconds > 0.9 * workers) {
        warnings.push(`${where}: the generator used ${(run.generatorCpuSeconds / run.windowSeconds).toFixed(2)} cores: it may be the bottleneck.`);
      }
    }
  }
  return warnings;
}
