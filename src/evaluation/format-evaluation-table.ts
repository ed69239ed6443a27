import type {
  DatasetStatistics,
  DetectionSummary,
  EvaluationResult,
  FaithfulnessSummary,
} from '../schemas/evaluation-result-schema.ts';

const percent = (value: number | null | undefined) =>
  value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
const decimal = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '–' : value.toFixed(digits);
const integer = (value: number | null | undefined) =>
  value === null || value === undefined ? '–' : Math.round(value).toLocaleString('en-US');

/** The statistic rows of the tables (terminal and report): label and how to format one dataset's value. */
export const STATISTIC_ROWS: [string, (statistics: DatasetStatistics) => string][] = [
  ['conversations', (s) => integer(s.conversations)],
  ['utterances / conversation: mean', (s) => decimal(s.utterances.mean)],
  ['  median', (s) => decimal(s.utterances.median)],
  ['  P10 – P90', (s) => `${decimal(s.utterances.p10)} – ${decimal(s.utterances.p90)}`],
  ['words / utterance', (s) => decimal(s.words_per_utterance)],
  ['attributes / profile', (s) => decimal(s.attributes_per_profile)],
  ['strict alternation', (s) => percent(s.strict_alternation_rate)],
  ['distinct-1', (s) => decimal(s.distinct_1, 4)],
  ['distinct-2', (s) => decimal(s.distinct_2, 4)],
  ['bracket placeholders', (s) => percent(s.bracket_placeholder_rate)],
  ['near-duplicates (J > 0.8)', (s) => percent(s.near_duplicate_rate)],
  ['persona attribute coverage', (s) => percent(s.persona_attribute_coverage)],
];

/** Renders rows as a plain-text table with a header rule; the first column left-aligned, others right-aligned. */
export function renderTextTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

function detectionCells(summary: DetectionSummary): string[] {
  return [
    String(summary.trials - summary.failed),
    percent(summary.lose_rate),
    percent(summary.win_rate),
    percent(summary.tie_rate),
    String(summary.failed),
  ];
}

function faithfulnessCells(summary: FaithfulnessSummary): string[] {
  return [
    String(summary.trials - summary.failed),
    percent(summary.inferred_precision),
    percent(summary.real_inferred_rate),
    percent(summary.real_contradicted_rate),
    percent(summary.contradicted_share),
    String(summary.failed),
  ];
}

/**
 * The terminal view of an evaluation: statistics of the dataset and the reference side by side,
 * per-iteration columns for a run, then the judge protocols overall and per iteration.
 */
export function formatEvaluationTable(result: EvaluationResult): string {
  const iterations = result.statistics.by_iteration;
  const header = [
    'statistic',
    'dataset',
    ...iterations.map((group) => `iter ${group.iteration}`),
    ...(result.statistics.reference ? ['reference'] : []),
  ];
  const rows = STATISTIC_ROWS.map(([label, format]) => [
    label,
    format(result.statistics.dataset),
    ...iterations.map((group) => format(group.statistics)),
    ...(result.statistics.reference ? [format(result.statistics.reference)] : []),
  ]);
  const sections = [renderTextTable(header, rows)];

  const judge = result.judge;
  if (judge) {
    if (judge.ai_detection) {
      const detection = judge.ai_detection;
      sections.push(
        `AI-detection test (judge ${judge.model}; lose = ours named synthetic in both orders)\n` +
          renderTextTable(
            ['group', 'trials', 'lose', 'win', 'tie', 'failed'],
            [
              ['all', ...detectionCells(detection.overall)],
              ...detection.by_iteration.map((group) => [
                `iteration ${group.iteration}`,
                ...detectionCells(group.summary),
              ]),
            ],
          ),
      );
    } else if (judge.ai_detection_skipped) {
      sections.push(`AI-detection test skipped: ${judge.ai_detection_skipped}`);
    }
    if (judge.faithfulness) {
      const faithfulness = judge.faithfulness;
      sections.push(
        `Faithfulness test (judge ${judge.model}; 4 real + 4 distractor attributes per trial)\n` +
          renderTextTable(
            ['group', 'trials', 'precision', 'real inferred', 'real contradicted', 'all contradicted', 'failed'],
            [
              ['all', ...faithfulnessCells(faithfulness.overall)],
              ...faithfulness.by_iteration.map((group) => [
                `iteration ${group.iteration}`,
                ...faithfulnessCells(group.summary),
              ]),
            ],
          ),
      );
    }
    const firstError = [...(judge.ai_detection?.trials ?? []), ...(judge.faithfulness?.trials ?? [])].find(
      (trial) => trial.error !== null,
    )?.error;
    if (firstError) sections.push(`some judge trials failed (details in the JSON); first error: ${firstError}`);
    sections.push(
      `judge usage: ${integer(judge.usage.calls)} calls, ${integer(judge.usage.prompt_tokens)} prompt + ${integer(judge.usage.completion_tokens)} completion tokens`,
    );
  }
  return sections.join('\n\n');
}
