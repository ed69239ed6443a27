import type { DatasetStatistics } from './evaluation-result-schema.ts';
import { escapeHtml } from './escape-html.ts';
import { STATISTIC_ROWS } from './format-evaluation-table.ts';
import { binValues, renderBarChart } from './render-bar-chart.ts';
import { renderConversationBrowser } from './render-conversation-browser.ts';
import type { RunReportData } from './read-run-report-data.ts';
import type { TokenUsageView } from './run-manifest-view-schema.ts';
import { REPORT_CSS, REPORT_SCRIPT } from './report-assets.ts';

/** What `renderRunReport` shows besides the run files. */
export interface RunReportView {
  data: RunReportData;
  /** Statistics of the run's conversations (null to leave the section out). */
  statistics: DatasetStatistics | null;
  /** A reference dataset, e.g. SPC or Persona-Chat. */
  reference: { label: string; statistics: DatasetStatistics } | null;
  generatedAt: string;
  version: string;
}

const COLORS = ['#0969da', '#1a7f37', '#cf222e', '#9a6700', '#8250df', '#bf3989', '#1b7c83', '#6e7781'];
const OURS_COLOR = '#0969da';
const REFERENCE_COLOR = '#9a6700';

const number = (value: number | undefined | null, digits = 0) =>
  value === undefined || value === null
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (value: number | null | undefined) =>
  value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
const usd = (value: number | undefined) => (value === undefined ? '–' : `$${value.toFixed(value < 1 ? 4 : 2)}`);
const duration = (milliseconds: number | undefined) => {
  if (milliseconds === undefined) return '–';
  const seconds = milliseconds / 1000;
  return seconds < 120
    ? `${seconds.toFixed(1)} s`
    : seconds < 7200
      ? `${(seconds / 60).toFixed(1)} min`
      : `${(seconds / 3600).toFixed(2)} h`;
};

function table(header: string[], rows: string[][], attributes = ''): string {
  return (
    `<table${attributes}><thead><tr>${header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}

interface IterationRow {
  iteration: number;
  pairs?: number;
  candidates?: number;
  accepted?: number;
  rejected?: number;
  failed?: number;
  filtered_by: Record<string, number>;
  generator?: TokenUsageView;
  critic?: TokenUsageView;
  cost_usd?: number;
  duration_ms?: number;
}

/** Iterations from the manifest, completed with tallies from `candidates.jsonl` and the rows. */
function iterationRows(data: RunReportData): IterationRow[] {
  const numbers = new Set<number>([
    ...(data.manifest?.iterations ?? []).map((entry) => entry.iteration),
    ...data.tallies.map((tally) => tally.iteration),
    ...data.rows.map((row) => row.iteration),
  ]);
  return [...numbers]
    .sort((left, right) => left - right)
    .map((iteration) => {
      const fromManifest = data.manifest?.iterations.find((entry) => entry.iteration === iteration);
      const tally = data.tallies.find((entry) => entry.iteration === iteration);
      const rows = data.rows.filter((row) => row.iteration === iteration).length;
      return {
        iteration,
        pairs: fromManifest?.pairs ?? tally?.pairs,
        candidates: fromManifest?.candidates ?? tally?.candidates,
        accepted: fromManifest?.accepted ?? (tally ? tally.accepted : rows),
        rejected: fromManifest?.rejected ?? tally?.rejected,
        failed: fromManifest?.failed,
        filtered_by: fromManifest?.filtered_by ?? tally?.filtered_by ?? {},
        generator: fromManifest?.usage?.generator,
        critic: fromManifest?.usage?.critic,
        cost_usd: fromManifest?.cost_usd,
        duration_ms: fromManifest?.duration_ms,
      };
    });
}

function renderSummary(view: RunReportView, iterations: IterationRow[]): string {
  const totals = view.data.manifest?.totals;
  const sum = (pick: (row: IterationRow) => number | undefined) =>
    iterations.some((row) => pick(row) !== undefined)
      ? iterations.reduce((total, row) => total + (pick(row) ?? 0), 0)
      : undefined;
  const pairs = totals?.pairs ?? sum((row) => row.pairs);
  const accepted = totals?.accepted ?? sum((row) => row.accepted) ?? view.data.rows.length;
  const rejected = totals?.rejected ?? sum((row) => row.rejected);
  const failed = totals?.failed ?? sum((row) => row.failed);
  const finished = (accepted ?? 0) + (rejected ?? 0) + (failed ?? 0);
  const tokens = (usage: TokenUsageView | undefined) =>
    usage ? usage.prompt_tokens + usage.completion_tokens : undefined;
  const generatorTokens = tokens(totals?.usage?.generator) ?? sum((row) => tokens(row.generator));
  const criticTokens = tokens(totals?.usage?.critic) ?? sum((row) => tokens(row.critic));
  const tiles: [string, string][] = [
    ['pairs', number(pairs)],
    ['accepted', number(accepted)],
    ['rejected', number(rejected)],
    ['failed', number(failed)],
    ['acceptance', finished > 0 ? percent(accepted / finished) : '–'],
    ['generator tokens', number(generatorTokens)],
    ['critic tokens', number(criticTokens)],
    ['cost', usd(totals?.cost_usd ?? sum((row) => row.cost_usd))],
    ['duration', duration(totals?.duration_ms ?? sum((row) => row.duration_ms))],
  ];
  return `<div class="tiles">${tiles.map(([label, value]) => `<div class="tile"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`).join('')}</div>`;
}

function renderIterations(iterations: IterationRow[]): string {
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
    number(row.pairs),
    number(row.candidates),
    number(row.accepted),
    number(row.rejected),
    number(row.failed),
    percent(rate[index]),
  ]);
  return `<div class="charts">${chart}${rateChart}</div>${table(['iteration', 'pairs', 'candidates', 'accepted', 'rejected', 'failed', 'acceptance'], rows)}`;
}

function renderRejections(iterations: IterationRow[]): string {
  const critics = [...new Set(iterations.flatMap((row) => Object.keys(row.filtered_by)))].sort();
  const chart = renderBarChart({
    id: 'rejections',
    title: 'Candidates removed, by check or critic and iteration',
    categories: critics,
    valueLabel: 'candidates',
    series: iterations.map((row, index) => ({
      name: `iteration ${row.iteration}`,
      values: critics.map((critic) => row.filtered_by[critic] ?? 0),
      color: COLORS[index % COLORS.length],
    })),
  });
  const rows = critics.map((critic) => [
    critic,
    ...iterations.map((row) => number(row.filtered_by[critic] ?? 0)),
    number(iterations.reduce((sum, row) => sum + (row.filtered_by[critic] ?? 0), 0)),
  ]);
  return `<div class="charts">${chart}</div>${critics.length ? table(['check / critic', ...iterations.map((row) => `iteration ${row.iteration}`), 'total'], rows) : ''}`;
}

function renderScores(data: RunReportData): string {
  const byCritic = new Map<string, number[]>();
  for (const row of data.rows) {
    for (const [critic, value] of Object.entries(row.scores)) {
      const values = byCritic.get(critic);
      if (values) values.push(value);
      else byCritic.set(critic, [value]);
    }
  }
  const charts: string[] = [];
  if (data.copelandScores.length) {
    const bins = binValues(data.copelandScores);
    charts.push(
      renderBarChart({
        id: 'score-copeland-candidates',
        title: 'Copeland score of every ranked candidate',
        categories: bins.labels,
        valueLabel: 'candidates',
        series: [{ name: 'candidates', values: bins.counts, color: COLORS[4] }],
      }),
    );
  }
  [...byCritic.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .slice(0, 16)
    .forEach(([critic, values], index) => {
      const bins = binValues(values, 12);
      charts.push(
        renderBarChart({
          id: `score-${critic}`,
          title: `Accepted rows: ${critic}`,
          categories: bins.labels,
          valueLabel: 'rows',
          width: 420,
          height: 200,
          series: [{ name: critic, values: bins.counts, color: COLORS[index % COLORS.length] }],
        }),
      );
    });
  if (!charts.length) return '<p class="muted">No scores yet.</p>';
  return `<div class="charts">${charts.join('')}</div>`;
}

/** Share of conversations per utterance-count bin, ours and the reference on the same bins. */
function renderLengths(view: RunReportView): string {
  const ours =
    view.statistics?.utterances.distribution ?? countDistribution(view.data.rows.map((row) => row.turns.length));
  const theirs = view.reference?.statistics.utterances.distribution ?? null;
  const lengths = [...Object.keys(ours), ...Object.keys(theirs ?? {})].map(Number);
  if (!lengths.length)
    return renderBarChart({ id: 'lengths', title: 'Utterances per conversation', categories: [], series: [] });
  const minimum = Math.min(...lengths);
  const maximum = Math.max(...lengths);
  const width = Math.max(1, Math.ceil((maximum - minimum + 1) / 30));
  const binCount = Math.floor((maximum - minimum) / width) + 1;
  const categories = Array.from({ length: binCount }, (_, index) => {
    const start = minimum + index * width;
    return width === 1 ? String(start) : `${start}–${start + width - 1}`;
  });
  const shares = (distribution: Record<string, number>) => {
    const counts = new Array<number>(binCount).fill(0);
    let total = 0;
    for (const [length, count] of Object.entries(distribution)) {
      counts[Math.floor((Number(length) - minimum) / width)] += count;
      total += count;
    }
    return counts.map((count) => (total ? count / total : 0));
  };
  const series = [{ name: 'this run', values: shares(ours), color: OURS_COLOR }];
  if (theirs && view.reference)
    series.push({ name: view.reference.label, values: shares(theirs), color: REFERENCE_COLOR });
  return renderBarChart({
    id: 'lengths',
    title: theirs
      ? 'Utterances per conversation: this run vs reference'
      : 'Utterances per conversation (no reference given)',
    categories,
    series,
    valueLabel: 'share of conversations',
    formatValue: (value) => `${(value * 100).toFixed(1)}%`,
  });
}

function countDistribution(values: number[]): Record<string, number> {
  const distribution: Record<string, number> = {};
  for (const value of values) distribution[value] = (distribution[value] ?? 0) + 1;
  return distribution;
}

function renderStatistics(view: RunReportView): string {
  if (!view.statistics) return '<p class="muted">Not computed.</p>';
  const header = ['statistic', 'this run', ...(view.reference ? [view.reference.label] : [])];
  const rows = STATISTIC_ROWS.map(([label, format]) => [
    label.trim(),
    format(view.statistics!),
    ...(view.reference ? [format(view.reference.statistics)] : []),
  ]);
  return table(header, rows, ' id="statistics-table"');
}

/** Table rows `all`, `iteration 1`, … of a grouped protocol result. */
function groupedRows<T>(
  result: { overall: T; by_iteration: { iteration: number; summary: T }[] },
  cells: (summary: T) => string[],
): string[][] {
  return [
    ['all', ...cells(result.overall)],
    ...result.by_iteration.map((group) => [`iteration ${group.iteration}`, ...cells(group.summary)]),
  ];
}

function renderJudge(view: RunReportView): string {
  const judge = view.data.evaluation?.judge;
  if (!judge)
    return '<p class="muted">No LLM-judge results. Run <code>persona-forge evaluate &lt;run-dir&gt; --reference FILE --judge MODEL --judge-base-url URL</code> to add them.</p>';
  const parts: string[] = [
    `<p class="muted">Judge ${escapeHtml(judge.model)}, seed ${judge.seed}, ${judge.samples_per_group} conversations per iteration; prompts ${escapeHtml(
      Object.entries(judge.prompt_hashes)
        .map(([name, hash]) => `${name} ${hash}`)
        .join(', '),
    )}.</p>`,
  ];
  const charts: string[] = [];
  if (judge.ai_detection) {
    const groups = judge.ai_detection.by_iteration.length
      ? judge.ai_detection.by_iteration.map((group) => ({
          label: `iteration ${group.iteration}`,
          summary: group.summary,
        }))
      : [{ label: 'all', summary: judge.ai_detection.overall }];
    charts.push(
      renderBarChart({
        id: 'ai-detection',
        title: 'AI-detection test: lose / tie / win',
        categories: groups.map((group) => group.label),
        stacked: true,
        formatValue: (value) => `${(value * 100).toFixed(0)}%`,
        valueLabel: 'share of trials',
        series: [
          {
            name: 'lose (ours named synthetic)',
            values: groups.map((group) => group.summary.lose_rate ?? 0),
            color: '#cf222e',
          },
          {
            name: 'tie (order-dependent)',
            values: groups.map((group) => group.summary.tie_rate ?? 0),
            color: '#9a6700',
          },
          {
            name: 'win (reference named)',
            values: groups.map((group) => group.summary.win_rate ?? 0),
            color: '#1a7f37',
          },
        ],
      }),
    );
    parts.push(
      '<h3>AI-detection test <span class="muted">(lose = ours named synthetic in both orders; tie = the answer followed the position)</span></h3>' +
        table(
          ['group', 'trials', 'lose', 'win', 'tie', 'failed'],
          groupedRows(judge.ai_detection, (summary) => [
            String(summary.trials - summary.failed),
            percent(summary.lose_rate),
            percent(summary.win_rate),
            percent(summary.tie_rate),
            String(summary.failed),
          ]),
        ),
    );
  } else if (judge.ai_detection_skipped) {
    parts.push(`<p class="muted">AI-detection test skipped: ${escapeHtml(judge.ai_detection_skipped)}.</p>`);
  }
  if (judge.faithfulness) {
    const faithfulness = judge.faithfulness;
    const groups = faithfulness.by_iteration.length
      ? faithfulness.by_iteration.map((group) => ({ label: `iteration ${group.iteration}`, summary: group.summary }))
      : [{ label: 'all', summary: faithfulness.overall }];
    charts.push(
      renderBarChart({
        id: 'faithfulness',
        title: 'Faithfulness test',
        categories: groups.map((group) => group.label),
        formatValue: (value) => `${(value * 100).toFixed(0)}%`,
        series: [
          {
            name: 'precision of inferred',
            values: groups.map((group) => group.summary.inferred_precision ?? 0),
            color: '#1a7f37',
          },
          {
            name: 'real attributes inferred',
            values: groups.map((group) => group.summary.real_inferred_rate ?? 0),
            color: '#0969da',
          },
          {
            name: 'real attributes contradicted',
            values: groups.map((group) => group.summary.real_contradicted_rate ?? 0),
            color: '#cf222e',
          },
        ],
      }),
    );
    parts.push(
      '<h3>Faithfulness test <span class="muted">(4 real + 4 distractor attributes per trial; precision = real among those inferred)</span></h3>' +
        table(
          ['group', 'trials', 'precision', 'real inferred', 'real contradicted', 'all contradicted', 'failed'],
          groupedRows(faithfulness, (summary) => [
            String(summary.trials - summary.failed),
            percent(summary.inferred_precision),
            percent(summary.real_inferred_rate),
            percent(summary.real_contradicted_rate),
            percent(summary.contradicted_share),
            String(summary.failed),
          ]),
        ),
    );
  }
  return `${parts[0]}<div class="charts">${charts.join('')}</div>${parts.slice(1).join('')}`;
}

function renderUsage(view: RunReportView, iterations: IterationRow[]): string {
  const cells = (usage: TokenUsageView | undefined) => [
    number(usage?.prompt_tokens),
    number(usage?.completion_tokens),
    number(usage?.calls),
  ];
  const rows = iterations.map((row) => [
    String(row.iteration),
    ...cells(row.generator),
    ...cells(row.critic),
    usd(row.cost_usd),
    duration(row.duration_ms),
  ]);
  const totals = view.data.manifest?.totals;
  if (totals)
    rows.push([
      'total',
      ...cells(totals.usage?.generator),
      ...cells(totals.usage?.critic),
      usd(totals.cost_usd),
      duration(totals.duration_ms),
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
    ? `<p class="muted">LLM judge (evaluation): ${number(judge.usage.calls)} calls, ${number(judge.usage.prompt_tokens)} prompt + ${number(judge.usage.completion_tokens)} completion tokens.</p>`
    : '';
  return `${table(header, rows, ' id="usage-table"')}${judgeLine}`;
}

/** Renders the complete, self-contained `report.html` (inline CSS, inline SVG, one small inline script). Pure. */
export function renderRunReport(view: RunReportView): string {
  const { data } = view;
  const manifest = data.manifest;
  const runId = manifest?.run_id ?? data.rows[0]?.run_id ?? data.runDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
  const iterations = iterationRows(data);
  const subtitle = [
    manifest?.status ? `status ${manifest.status}` : null,
    manifest?.models ? `generator ${manifest.models.generator ?? '?'}, critic ${manifest.models.critic ?? '?'}` : null,
    manifest?.created_at ? `started ${manifest.created_at}` : null,
    manifest?.finished_at ? `finished ${manifest.finished_at}` : null,
    manifest?.stop_reason ? `stopped: ${manifest.stop_reason}` : null,
  ].filter(Boolean);
  const warnings = data.warnings.length
    ? `<div class="warnings"><b>Some run files could not be read fully:</b><ul>${data.warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join('')}</ul></div>`
    : '';
  const sections: [string, string, string][] = [
    ['summary', 'Summary', `${warnings}${renderSummary(view, iterations)}`],
    ['iterations', 'Acceptance per iteration', renderIterations(iterations)],
    ['rejections', 'Rejections by critic', renderRejections(iterations)],
    ['scores', 'Score distributions', renderScores(data)],
    ['lengths', 'Conversation lengths', `<div class="charts">${renderLengths(view)}</div>`],
    ['statistics', 'Dataset statistics', renderStatistics(view)],
    ['judge', 'LLM-judge evaluation', renderJudge(view)],
    ['usage', 'Tokens and cost', renderUsage(view, iterations)],
    ['conversations', `Conversations (sample of ${data.samples.length})`, renderConversationBrowser(data.samples)],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`persona-forge report · ${runId}`)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(runId)}</h1><p class="muted">${escapeHtml(subtitle.join(' · ') || 'persona-forge run')}</p></header>
<nav>${sections.map(([id, title]) => `<a href="#${id}">${escapeHtml(title.replace(/ \(.*\)$/, ''))}</a>`).join('')}</nav>
<main>
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`).join('\n')}
</main>
<footer>Generated by persona-forge ${escapeHtml(view.version)} at ${escapeHtml(view.generatedAt)}${manifest?.versions?.prompt_hash ? ` · generator prompt ${escapeHtml(manifest.versions.prompt_hash)}` : ''}${manifest?.config_fingerprint ? ` · config ${escapeHtml(manifest.config_fingerprint)}` : ''}.</footer>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
