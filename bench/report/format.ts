/** Number formatting shared by the table and the chart. */

/**
 * Formats a figure: thousands grouped, about three significant digits below 100.
 * @param value - the value, or undefined when missing
 * @returns the text ('—' when missing)
 */
export function formatValue(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/**
 * Formats a ratio with two decimals and a times sign.
 * @param ratio - parley / ws, or undefined
 * @returns the text ('—' when missing)
 */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}×`;
}
