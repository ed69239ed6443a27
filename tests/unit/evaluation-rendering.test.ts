import { describe, expect, it } from 'vitest';
import { computeDatasetStatistics } from '../../src/evaluation/compute-dataset-statistics.ts';
import type { EvaluationResult } from '../../src/schemas/evaluation-result-schema.ts';
import { formatEvaluationTable } from '../../src/evaluation/format-evaluation-table.ts';
import {
  binValueCounts,
  binValues,
  CHART_MIN_RENDERED_WIDTH_PX,
  niceTicks,
  renderBarChart,
} from '../../src/evaluation/render-bar-chart.ts';
import { REPORT_CSS } from '../../src/evaluation/report-assets.ts';
import { STATISTIC_DEFINITIONS } from '../../src/evaluation/statistic-definitions.ts';

describe('renderBarChart', () => {
  it('escapes every text and draws one rect per positive value', () => {
    const svg = renderBarChart({
      id: 'x"y',
      title: '<b>title</b>',
      categories: ['<i>a</i>', 'b & c'],
      series: [
        { name: 's1', values: [1, 0], color: '#000' },
        { name: '"s2"', values: [2, 3], color: 'red' },
      ],
    });
    expect(svg).not.toMatch(/<b>|<i>/);
    expect(svg).toContain('&lt;b&gt;title&lt;/b&gt;');
    expect(svg).toContain('data-chart="x&quot;y"');
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(3);
    expect(svg).toContain('b &amp; c · &quot;s2&quot;: 3');
  });

  it('says "No data." for an empty chart', () => {
    expect(renderBarChart({ id: 'e', title: 'Empty', categories: [], series: [] })).toContain('No data.');
  });

  it('uses round ticks and sensible bins', () => {
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0.63)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(binValues([1, 2, 2, 3])).toEqual({ labels: ['1', '2', '3'], counts: [1, 2, 1], edges: [1, 2, 3] });
    expect(binValues([0.9, 0.9]).labels).toEqual(['0.9']);
    const wide = binValues(
      Array.from({ length: 100 }, (_, index) => index),
      10,
    );
    expect(wide.counts).toEqual(new Array(10).fill(10));
  });
});

describe('chart text size', () => {
  it('draws axis and tick text at 11 px or more at the narrowest width a chart is shown', () => {
    for (const width of [420, 640, 900]) {
      const svg = renderBarChart({
        id: 'w',
        title: 't',
        width,
        categories: ['a', 'b'],
        valueLabel: 'rows',
        series: [{ name: 's', values: [3, 5], color: '#000' }],
      });
      const viewBoxWidth = Number(/viewBox="0 0 (\d+) /.exec(svg)![1]);
      const fontSize = Number(/<svg [^>]*font-size="([\d.]+)"/.exec(svg)![1]);
      // The SVG scales to its container: text shrinks by container width / viewBox width.
      expect((fontSize * CHART_MIN_RENDERED_WIDTH_PX) / viewBoxWidth, `width ${width}`).toBeGreaterThanOrEqual(11);
      expect(svg).toContain('class="tick"');
      expect(svg).toContain('class="axis-label"');
    }
    // No stylesheet rule pins the chart text to a size of its own (it would win over the SVG's).
    expect(REPORT_CSS).not.toMatch(/svg \.tick[^{]*\{[^}]*font-size/);
  });
});

describe('binValueCounts', () => {
  it('bins value counts exactly as binValues bins the values', () => {
    const values = [0.5, 0.75, 0.75, 0.9, 1, 1, 1, 0.62];
    const counts = new Map<number, number>();
    for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
    expect(binValueCounts(counts, 12)).toEqual(binValues(values, 12));
    expect(binValueCounts(new Map([[2, 5]]))).toEqual({ labels: ['2'], counts: [5], edges: [2] });
  });
});

describe('formatEvaluationTable', () => {
  it('shows dataset, iterations and reference side by side, then the judge results and the first failure', () => {
    const statistics = computeDatasetStatistics([
      {
        id: 'a',
        user1_persona: ['I like tea.'],
        user2_persona: ['I run.'],
        turns: [
          { speaker: 'User 1', text: 'hi [name]' },
          { speaker: 'User 2', text: 'hello' },
        ],
      },
    ]);
    const summary = { trials: 2, lose: 1, win: 0, tie: 0, failed: 1, lose_rate: 1, win_rate: 0, tie_rate: 0 };
    const result: EvaluationResult = {
      schema_version: 1,
      created_at: '2026-01-01T00:00:00.000Z',
      persona_forge_version: '0.1.0',
      dataset: { path: 'run', kind: 'run', run_id: 'r', import_notes: null },
      reference: { path: 'ref.csv', kind: 'spc-csv', run_id: null, import_notes: null },
      definitions: STATISTIC_DEFINITIONS,
      statistics: { dataset: statistics, reference: statistics, by_iteration: [{ iteration: 1, statistics }] },
      judge: {
        model: 'judge-x',
        seed: 1,
        samples_per_group: 2,
        prompt_hashes: {},
        ai_detection: {
          overall: summary,
          by_iteration: [{ iteration: 1, summary }],
          trials: [
            {
              conversation_id: 'a',
              reference_id: 'b',
              iteration: 1,
              picks: [null, null],
              outcome: 'failed',
              rationales: ['', ''],
              error: 'LlmError: boom',
            },
          ],
        },
        ai_detection_skipped: null,
        faithfulness: null,
        usage: { prompt_tokens: 1000, completion_tokens: 20, calls: 3 },
      },
    };
    const table = formatEvaluationTable(result);
    expect(table).toMatch(/^statistic\s+dataset\s+iter 1\s+reference$/m);
    expect(table).toMatch(/^bracket placeholders\s+100\.0%\s+100\.0%\s+100\.0%$/m);
    expect(table).toMatch(/^iteration 1\s+1\s+100\.0%\s+0\.0%\s+0\.0%\s+1$/m);
    expect(table).toContain('first error: LlmError: boom');
    expect(table).toContain('judge usage: 3 calls, 1,000 prompt + 20 completion tokens');
  });
});
