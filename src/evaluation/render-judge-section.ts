import { escapeHtml } from './escape-html.ts';
import { formatReportPercent } from './format-report-values.ts';
import { renderBarChart } from './render-bar-chart.ts';
import { renderHtmlTable } from './render-html-table.ts';
import type { RunReportView } from './run-report-view.ts';

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

/** The LLM-judge results (AI-detection and faithfulness tests), or how to produce them when absent. */
export function renderJudgeSection(view: RunReportView): string {
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
        renderHtmlTable(
          ['group', 'trials', 'lose', 'win', 'tie', 'failed'],
          groupedRows(judge.ai_detection, (summary) => [
            String(summary.trials - summary.failed),
            formatReportPercent(summary.lose_rate),
            formatReportPercent(summary.win_rate),
            formatReportPercent(summary.tie_rate),
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
        renderHtmlTable(
          ['group', 'trials', 'precision', 'real inferred', 'real contradicted', 'all contradicted', 'failed'],
          groupedRows(faithfulness, (summary) => [
            String(summary.trials - summary.failed),
            formatReportPercent(summary.inferred_precision),
            formatReportPercent(summary.real_inferred_rate),
            formatReportPercent(summary.real_contradicted_rate),
            formatReportPercent(summary.contradicted_share),
            String(summary.failed),
          ]),
        ),
    );
  }
  return `${parts[0]}<div class="charts">${charts.join('')}</div>${parts.slice(1).join('')}`;
}
