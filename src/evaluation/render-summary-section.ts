import type { ReportIterationRow } from './collect-report-iteration-rows.ts';
import { escapeHtml } from './escape-html.ts';
import {
  formatReportDuration,
  formatReportNumber,
  formatReportPercent,
  formatReportUsd,
} from './format-report-values.ts';
import type { TokenUsageView } from '../schemas/run-manifest-view-schema.ts';
import type { RunReportView } from './run-report-view.ts';

/** The summary tiles: manifest totals when present, otherwise sums over the iterations. */
export function renderSummarySection(view: RunReportView, iterations: ReportIterationRow[]): string {
  const totals = view.data.manifest?.totals;
  const sum = (pick: (row: ReportIterationRow) => number | undefined) =>
    iterations.some((row) => pick(row) !== undefined)
      ? iterations.reduce((total, row) => total + (pick(row) ?? 0), 0)
      : undefined;
  const pairs = totals?.pairs ?? sum((row) => row.pairs);
  const accepted = totals?.accepted ?? sum((row) => row.accepted) ?? view.data.rows.count;
  const rejected = totals?.rejected ?? sum((row) => row.rejected);
  const failed = totals?.failed ?? sum((row) => row.failed);
  const finished = (accepted ?? 0) + (rejected ?? 0) + (failed ?? 0);
  const tokens = (usage: TokenUsageView | undefined) =>
    usage ? usage.prompt_tokens + usage.completion_tokens : undefined;
  const generatorTokens = tokens(totals?.usage?.generator) ?? sum((row) => tokens(row.generator));
  const criticTokens = tokens(totals?.usage?.critic) ?? sum((row) => tokens(row.critic));
  const tiles: [string, string][] = [
    ['pairs', formatReportNumber(pairs)],
    ['accepted', formatReportNumber(accepted)],
    ['rejected', formatReportNumber(rejected)],
    ['failed', formatReportNumber(failed)],
    ['acceptance', finished > 0 ? formatReportPercent(accepted / finished) : '–'],
    ['generator tokens', formatReportNumber(generatorTokens)],
    ['critic tokens', formatReportNumber(criticTokens)],
    ['cost', formatReportUsd(totals?.cost_usd ?? sum((row) => row.cost_usd))],
    ['duration', formatReportDuration(totals?.duration_ms ?? sum((row) => row.duration_ms))],
  ];
  return `<div class="tiles">${tiles.map(([label, value]) => `<div class="tile"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`).join('')}</div>`;
}
