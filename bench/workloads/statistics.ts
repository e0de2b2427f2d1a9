/** The two statistics the figures use. */

/**
 * Nearest-rank percentile.
 * @param sorted - samples in ascending order
 * @param p - the percentile, 0 < p ≤ 100
 * @returns the sample at that rank, NaN when there are none
 */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/**
 * The median: robust to a slice that a burst of other work on the machine slowed down.
 * @param values - any order
 * @returns the median (mean of the middle two for an even count), NaN when empty
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}
