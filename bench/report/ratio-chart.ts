/**
 * A horizontal bar chart of the ratios (parley / ws) as a hand-written SVG string. The line at 1.0
 * is parity; a bar is green where Parley is better (ratio above 1 for ↑ figures, below 1 for ↓),
 * red where it is worse, and a missing figure shows as a grey "missing" label.
 */
import { formatRatio } from './format.js';
import type { FigureRow } from './summary.js';

const WIDTH = 960;
const LABEL_WIDTH = 380;
const VALUE_WIDTH = 80;
const ROW_HEIGHT = 26;
const BAR_HEIGHT = 16;
const TOP = 56;
const BOTTOM = 36;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders the chart.
 * @param rows - the figure rows, in table order
 * @param title - the heading (date, machine, what ran against what)
 * @returns the SVG document
 */
export function ratioChart(rows: readonly FigureRow[], title: string): string {
  const plotLeft = LABEL_WIDTH;
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const maxRatio = Math.max(2, ...rows.map((row) => (row.ratio !== undefined && Number.isFinite(row.ratio) ? row.ratio : 0)));
  const scale = plotWidth / (maxRatio * 1.05);
  const height = TOP + rows.length * ROW_HEIGHT + BOTTOM;
  const x = (ratio: number): number => plotLeft + ratio * scale;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="12" y="42" fill="#555">ratio parley / ws in the same run; ↑ higher is better, ↓ lower is better; green: parley better</text>`,
  ];
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const label = `${row.label} ${row.better === 'higher' ? '↑' : '↓'}`;
    parts.push(`<text x="${plotLeft - 8}" y="${y + BAR_HEIGHT - 3}" text-anchor="end">${escapeXml(label)}</text>`);
    if (row.ratio === undefined || !Number.isFinite(row.ratio)) {
      parts.push(`<text x="${plotLeft + 4}" y="${y + BAR_HEIGHT - 3}" fill="#888">missing</text>`);
      return;
    }
    const better = row.better === 'higher' ? row.ratio > 1 : row.ratio < 1;
    const color = Math.abs(row.ratio - 1) < 0.005 ? '#888888' : better ? '#2e8b57' : '#c0392b';
    const width = Math.max(1, row.ratio * scale);
    parts.push(`<rect x="${plotLeft}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}"/>`);
    parts.push(`<text x="${(plotLeft + width + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 3}">${escapeXml(formatRatio(row.ratio))}</text>`);
  });
  const axisY = TOP + rows.length * ROW_HEIGHT;
  parts.push(`<line x1="${plotLeft}" y1="${TOP - 6}" x2="${plotLeft}" y2="${axisY}" stroke="#333"/>`);
  parts.push(`<line x1="${x(1).toFixed(1)}" y1="${TOP - 6}" x2="${x(1).toFixed(1)}" y2="${axisY}" stroke="#333" stroke-dasharray="4 3"/>`);
  for (let tick = 0; tick <= maxRatio; tick += maxRatio > 4 ? 1 : 0.5) {
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${axisY + 18}" text-anchor="middle" fill="#555">${tick}×</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
