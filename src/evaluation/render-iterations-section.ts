import type { ReportIterationRow } from './collect-report-iteration-rows.ts';
import { formatReportNumber, formatReportPercent } from './format-report-values.ts';
import { renderBarChart } from './render-bar-chart.ts';
import { renderHtmlTable } from './render-html-table.ts';

/** Outcome and acceptance-rate charts per iteration, then the same numbers as a table. */
export function renderIterationsSection(iterations: ReportIterationRow[]): string {
  const categories = iterations.map((row) => `iteration ${row.iteration}`);
  const chart = renderBarChart({
    id: 'acceptance',
    title: 'Pairs per iteration by outcome',
    categories,
    stacked: true,
    valueLabel: 'pairs',
    series: [
      { name: 'accepted', values: iterations.map((row) => row.accepted ?? 0), color: '#1a7f37' },
      { name: 'rejected', values: iterations.map((row) => row.rejected ?? 0), color: '#cf222e' },
      { name: 'failed', values: iterations.map((row) => row.failed ?? 0), color: '#6e7781' },
    ],
  });
  const rate = iterations.map((row) => {
    const done = (row.accepted ?? 0) + (row.rejected ?? 0) + (row.failed ?? 0);
    return done > 0 ? (row.accepted ?? 0) / done : 0;
  });
  const rateChart = renderBarChart({
    id: 'acceptance-rate',
    title: 'Acceptance rate per iteration',
    categories,
    valueLabel: 'accepted / finished pairs',
    formatValue: (value) => `${(value * 100).toFixed(0)}%`,
    series: [{ name: 'acceptance', values: rate, color: '#1a7f37' }],
  });
  const rows = iterations.map((row, index) => [
    String(row.iteration),
    formatReportNumber(row.pairs),
    formatReportNumber(row.candidates),
    formatReportNumber(row.accepted),
    formatReportNumber(row.rejected),
    formatReportNumber(row.failed),
    formatReportPercent(rate[index]),
  ]);
  return `<div class="charts">${chart}${rateChart}</div>${renderHtmlTable(['iteration', 'pairs', 'candidates', 'accepted', 'rejected', 'failed', 'acceptance'], rows)}`;
}
