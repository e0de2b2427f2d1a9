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
