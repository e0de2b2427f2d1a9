/**
 * Splits a total as evenly as possible into at most `parts` positive shares (never a share of 0,
 * so no worker gets an empty job).
 * @param total - what to split
 * @param parts - how many shares at most
 * @returns the shares, largest first, summing to `total`
 */
export function splitEvenly(total: number, parts: number): number[] {
  const count = Math.max(1, Math.min(parts, total));
  const base = Math.floor(total / count);
  const extra = total % count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}
