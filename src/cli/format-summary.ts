import type { Manifest } from '../schemas/manifest.ts';
import { formatDuration } from './format-duration.ts';

/** The end-of-run table: one row per iteration and a total. */
export function formatSummary(manifest: Manifest, runDir: string): string {
  const header = ['iteration', 'pairs', 'accepted', 'rejected', 'failed', 'candidates', 'gen calls', 'critic calls', 'tokens', 'cost $', 'time'];
  const tokens = (usage: Manifest['totals']['usage']) =>
    usage.generator.prompt_tokens + usage.generator.completion_tokens + usage.critic.prompt_tokens + usage.critic.completion_tokens;
  const rows = manifest.iterations.map((iteration) => [
    String(iteration.iteration),
    `${iteration.done}/${iteration.pairs}`,
    String(iteration.accepted),
    String(iteration.rejected),
    String(iteration.failed),
    String(iteration.candidates),
    String(iteration.usage.generator.calls),
    String(iteration.usage.critic.calls),
    tokens(iteration.usage).toLocaleString('en-US'),
    iteration.cost_usd.toFixed(4),
    formatDuration(iteration.duration_ms),
  ]);
  const { totals, planning } = manifest;
  if (planning.usage.generator.calls + planning.usage.critic.calls > 0) {
    rows.push([
      'planning',
      '', '', '', '', '',
      String(planning.usage.generator.calls),
      String(planning.usage.critic.calls),
      tokens(planning.usage).toLocaleString('en-US'),
      planning.cost_usd.toFixed(4),
      '',
    ]);
  }
  rows.push([
    'total',
    String(totals.pairs),
    String(totals.accepted),
    String(totals.rejected),
    String(totals.failed),
    String(totals.candidates),
    String(totals.usage.generator.calls),
    String(totals.usage.critic.calls),
    tokens(totals.usage).toLocaleString('en-US'),
    totals.cost_usd.toFixed(4),
    formatDuration(totals.duration_ms),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
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
    `status: ${manifest.status}${manifest.stop_reason ? ` (${manifest.stop_reason})` : ''}`,
    `run directory: ${runDir}`,
  ].join('\n');
}
