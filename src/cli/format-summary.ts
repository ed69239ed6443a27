import type { Manifest } from '../schemas/manifest.ts';
import { formatDuration } from './format-duration.ts';
import { formatImportSummary } from '../personas/importers/format-import-summary.ts';
import { formatReplyParsing } from '../generation/format-reply-parsing.ts';
import { batchTokenShare, cachedPromptShare } from '../llm/compute-cost.ts';

/** The end-of-run table: one row per iteration and a total. */
export function formatSummary(manifest: Manifest, runDir: string): string {
  const header = [
    'iteration',
    'pairs',
    'accepted',
    'rejected',
    'failed',
    'candidates',
    'gen calls',
    'critic calls',
    'tokens',
    'cost $',
    'time',
  ];
  const tokens = (usage: Manifest['totals']['usage']) =>
    usage.generator.prompt_tokens +
    usage.generator.completion_tokens +
    usage.critic.prompt_tokens +
    usage.critic.completion_tokens;
  type Counts = {
    pairs: string;
    accepted: number;
    rejected: number;
    failed: number;
    candidates: number;
    durationMs: number;
  };
  const row = (label: string, usage: Manifest['totals']['usage'], costUsd: number, counts?: Counts) => [
    label,
    counts?.pairs ?? '',
    counts ? String(counts.accepted) : '',
    counts ? String(counts.rejected) : '',
    counts ? String(counts.failed) : '',
    counts ? String(counts.candidates) : '',
    String(usage.generator.calls),
    String(usage.critic.calls),
    tokens(usage).toLocaleString('en-US'),
    costUsd.toFixed(4),
    counts ? formatDuration(counts.durationMs) : '',
  ];
  const rows = manifest.iterations.map((iteration) =>
    row(String(iteration.iteration), iteration.usage, iteration.cost_usd, {
      ...iteration,
      pairs: `${iteration.done}/${iteration.pairs}`,
      durationMs: iteration.duration_ms,
    }),
  );
  const { totals, planning } = manifest;
  if (planning.usage.generator.calls + planning.usage.critic.calls > 0)
    rows.push(row('planning', planning.usage, planning.cost_usd));
  rows.push(
    row('total', totals.usage, totals.cost_usd, {
      ...totals,
      pairs: String(totals.pairs),
      durationMs: totals.duration_ms,
    }),
  );
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ');
  const filtered = Object.entries(
    manifest.iterations.reduce<Record<string, number>>((all, iteration) => {
      for (const [critic, count] of Object.entries(iteration.filtered_by)) all[critic] = (all[critic] ?? 0) + count;
      return all;
    }, {}),
  )
    .sort((a, b) => b[1] - a[1])
    .map(([critic, count]) => `${critic} ${count}`)
    .join(', ');
  const perAccepted = totals.calls_per_accepted
    ? `LLM calls per accepted conversation: generator ${totals.calls_per_accepted.generator.toFixed(2)}, critic ${totals.calls_per_accepted.critic.toFixed(2)}`
    : 'no conversation accepted';
  return [
    line(header),
    line(header.map((_, column) => '-'.repeat(widths[column]))),
    ...rows.map(line),
    '',
    `candidates filtered by: ${filtered || 'none'}`,
    perAccepted,
    ...(cachedPromptShare(totals.usage) > 0
      ? [
          `prompt tokens served from the provider's prompt cache: ${(100 * cachedPromptShare(totals.usage)).toFixed(1)}% (priced at cached_input_per_million_usd in the cost)`,
        ]
      : []),
    ...(batchTokenShare(totals.usage) > 0
      ? [
          `tokens served through the Batch API: ${(100 * batchTokenShare(totals.usage)).toFixed(1)}% (priced at batch_price_factor, default 0.5, in the cost)`,
        ]
      : []),
    ...(manifest.batches ? [formatBatchSummary(manifest.batches, totals.cost_usd)] : []),
    ...(totals.reply_parsing ? [formatReplyParsing(totals.reply_parsing)] : []),
    ...(manifest.personas_import ? [formatImportSummary(manifest.personas_import, 'personas.strict: true')] : []),
    `status: ${manifest.status}${manifest.stop_reason ? ` (${manifest.stop_reason})` : ''}`,
    `run directory: ${runDir}`,
  ].join('\n');
}

/** e.g. `Batch API: 8 batches, 26 requests (text 6, listwise_ranking 12, contradiction_checks 8), 0 failed and retried, 1 re-attached; cost $0.0194 ($0.0388 without --batch)`. */
function formatBatchSummary(batches: NonNullable<Manifest['batches']>, costUsd: number): string {
  const stages = Object.entries(batches.requests_by_stage)
    .map(([stage, count]) => `${stage} ${count}`)
    .join(', ');
  const batchCount = `${batches.batches} ${batches.batches === 1 ? 'batch' : 'batches'}`;
  const requestCount = `${batches.requests} ${batches.requests === 1 ? 'request' : 'requests'}`;
  return (
    `Batch API: ${batchCount}, ${requestCount}${stages ? ` (${stages})` : ''}, ` +
    `${batches.failed_requests} failed and retried, ${batches.reattached} re-attached after a restart; ` +
    `cost $${costUsd.toFixed(4)} (would be $${batches.cost_without_batch_usd.toFixed(4)} without --batch)`
  );
}
