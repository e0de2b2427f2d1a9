/** The text tables on stdout (Markdown, so they paste into docs/benchmarks.md as they are). */
import type { WorkloadResult } from '../workloads/types.js';
import { formatRatio, formatValue } from './format.js';
import type { Summary } from './summary.js';

/**
 * Renders rows as a Markdown table with padded columns.
 * @param header - column titles
 * @param rows - cells
 * @param rightAligned - which columns hold numbers
 * @returns the table text
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const pad = (cell: string, i: number): string =>
    rightAligned[i] === true ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => pad(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned[i] === true ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/**
 * The figures table: figure | parley | ws | ratio. Labels end in ↑ or ↓: which way is better.
 * @param summary - the run's rows
 * @param labels - column titles for the two slots (e.g. 'parley' or 'parley=ws')
 * @returns the table text
 */
export function figuresTable(summary: Summary, labels: { readonly parley: string; readonly ws: string }): string {
  return markdownTable(
    ['figure', labels.parley, labels.ws, 'ratio'],
    summary.rows.map((row) => [
      `${row.label} ${row.better === 'higher' ? '↑' : '↓'}`,
      formatValue(row.parley),
      formatValue(row.ws),
      formatRatio(row.ratio),
    ]),
    [false, true, true, true],
  );
}

/**
 * The CPU table: for each run, the window and the CPU each side used in it, in seconds and in
 * cores (CPU seconds / window seconds); generator near 1 core per worker means it, not the
 * server, may be the bottleneck.
 * @param results - every workload's result
 * @returns the table text
 */
export function cpuTable(results: readonly WorkloadResult[]): string {
  const rows: string[][] = [];
  for (const result of results) {
    for (const impl of result.order) {
      const run = result.runs[impl];
      if (run === undefined) {
        rows.push([result.name, impl, '—', '—', '—', 'run failed']);
        continue;
      }
      const cores = (cpu: number): string => (run.windowSeconds > 0 ? ` (${(cpu / run.windowSeconds).toFixed(2)})` : '');
      rows.push([
        result.name,
        impl,
        run.windowSeconds > 0 ? run.windowSeconds.toFixed(2) : 'setup',
        `${run.serverCpuSeconds.toFixed(2)}${cores(run.serverCpuSeconds)}`,
        `${run.generatorCpuSeconds.toFixed(2)}${cores(run.generatorCpuSeconds)}`,
        String(run.failures),
      ]);
    }
  }
  return markdownTable(
    ['workload', 'impl', 'window s', 'server CPU s (cores)', 'generator CPU s (cores)', 'failures'],
    rows,
    [false, false, true, true, true, true],
  );
}
