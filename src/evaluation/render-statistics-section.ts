import { STATISTIC_ROWS } from './format-evaluation-table.ts';
import { renderHtmlTable } from './render-html-table.ts';
import type { RunReportView } from './run-report-view.ts';

/** The dataset statistics table, with a reference column when a reference is given. */
export function renderStatisticsSection(view: RunReportView): string {
  if (!view.statistics) return '<p class="muted">Not computed.</p>';
  const header = ['statistic', 'this run', ...(view.reference ? [view.reference.label] : [])];
  const rows = STATISTIC_ROWS.map(([label, format]) => [
    label.trim(),
    format(view.statistics!),
    ...(view.reference ? [format(view.reference.statistics)] : []),
  ]);
  const sample = view.statisticsSample;
  const note = sample
    ? `<p class="muted">This run's column is computed on a seeded random sample of ${sample.conversations.toLocaleString('en-US')} of its ${sample.of.toLocaleString('en-US')} conversations; <code>persona-forge evaluate</code> measures every one.</p>`
    : '';
  return `${note}${renderHtmlTable(header, rows, ' id="statistics-table"')}`;
}
