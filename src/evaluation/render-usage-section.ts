import type { ReportIterationRow } from './collect-report-iteration-rows.ts';
import { formatReportDuration, formatReportNumber, formatReportUsd } from './format-report-values.ts';
import { renderHtmlTable } from './render-html-table.ts';
import type { TokenUsageView } from '../schemas/run-manifest-view-schema.ts';
import type { RunReportView } from './run-report-view.ts';

/** Tokens, calls, cost and duration per iteration (plus a total row from the manifest), and the judge's usage. */
export function renderUsageSection(view: RunReportView, iterations: ReportIterationRow[]): string {
  const cells = (usage: TokenUsageView | undefined) => [
    formatReportNumber(usage?.prompt_tokens),
    formatReportNumber(usage?.completion_tokens),
    formatReportNumber(usage?.calls),
  ];
  const rows = iterations.map((row) => [
    String(row.iteration),
    ...cells(row.generator),
    ...cells(row.critic),
    formatReportUsd(row.cost_usd),
    formatReportDuration(row.duration_ms),
  ]);
  const totals = view.data.manifest?.totals;
  if (totals)
    rows.push([
      'total',
      ...cells(totals.usage?.generator),
      ...cells(totals.usage?.critic),
      formatReportUsd(totals.cost_usd),
      formatReportDuration(totals.duration_ms),
    ]);
  const header = [
    'iteration',
    'generator prompt',
    'generator completion',
    'generator calls',
    'critic prompt',
    'critic completion',
    'critic calls',
    'cost',
    'duration',
  ];
  const judge = view.data.evaluation?.judge;
  const judgeLine = judge
    ? `<p class="muted">LLM judge (evaluation): ${formatReportNumber(judge.usage.calls)} calls, ${formatReportNumber(judge.usage.prompt_tokens)} prompt + ${formatReportNumber(judge.usage.completion_tokens)} completion tokens.</p>`
    : '';
  const cached =
    (totals?.usage?.generator?.cached_prompt_tokens ?? 0) + (totals?.usage?.critic?.cached_prompt_tokens ?? 0);
  const prompt = (totals?.usage?.generator?.prompt_tokens ?? 0) + (totals?.usage?.critic?.prompt_tokens ?? 0);
  const cachedLine =
    cached > 0 && prompt > 0
      ? `<p class="muted" id="prompt-cache-share">Prompt tokens served from the provider's prompt cache: ${formatReportNumber(cached)} (${((100 * cached) / prompt).toFixed(1)}% of prompt tokens), priced at the cached-input price in the cost.</p>`
      : '';
  const roles = [totals?.usage?.generator, totals?.usage?.critic];
  const batchTokens = roles.reduce(
    (sum, role) => sum + (role?.batch_prompt_tokens ?? 0) + (role?.batch_completion_tokens ?? 0),
    0,
  );
  const allTokens = roles.reduce((sum, role) => sum + (role?.prompt_tokens ?? 0) + (role?.completion_tokens ?? 0), 0);
  const batchLine =
    batchTokens > 0 && allTokens > 0
      ? `<p class="muted" id="batch-share">Tokens served through the Batch API: ${formatReportNumber(batchTokens)} (${((100 * batchTokens) / allTokens).toFixed(1)}% of all tokens), priced at the batch price in the cost.</p>`
      : '';
  return `${renderHtmlTable(header, rows, ' id="usage-table"')}${cachedLine}${batchLine}${judgeLine}`;
}
