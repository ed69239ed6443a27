import type { ReportIterationRow } from './collect-report-iteration-rows.ts';
import { formatReportNumber } from './format-report-values.ts';
import { renderBarChart } from './render-bar-chart.ts';
import { renderHtmlTable } from './render-html-table.ts';
import { REPORT_CHART_COLORS } from './report-chart-colors.ts';

/** Candidates removed per check or critic and iteration: a grouped chart and a table with totals. */
export function renderRejectionsSection(iterations: ReportIterationRow[]): string {
  const critics = [...new Set(iterations.flatMap((row) => Object.keys(row.filtered_by)))].sort();
  const chart = renderBarChart({
    id: 'rejections',
    title: 'Candidates removed, by check or critic and iteration',
    categories: critics,
    valueLabel: 'candidates',
    series: iterations.map((row, index) => ({
      name: `iteration ${row.iteration}`,
      values: critics.map((critic) => row.filtered_by[critic] ?? 0),
      color: REPORT_CHART_COLORS[index % REPORT_CHART_COLORS.length],
    })),
  });
  const rows = critics.map((critic) => [
    critic,
    ...iterations.map((row) => formatReportNumber(row.filtered_by[critic] ?? 0)),
    formatReportNumber(iterations.reduce((sum, row) => sum + (row.filtered_by[critic] ?? 0), 0)),
  ]);
  return `<div class="charts">${chart}</div>${critics.length ? renderHtmlTable(['check / critic', ...iterations.map((row) => `iteration ${row.iteration}`), 'total'], rows) : ''}`;
}
