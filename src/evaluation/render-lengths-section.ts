import { renderBarChart } from './render-bar-chart.ts';
import type { RunReportView } from './run-report-view.ts';

const OURS_COLOR = '#0969da';
const REFERENCE_COLOR = '#9a6700';

/** Share of conversations per utterance-count bin, ours and the reference on the same bins. */
export function renderLengthsSection(view: RunReportView): string {
  // Statistics computed on a sample give the same shares only roughly: count every row instead.
  const ours = view.statisticsSample
    ? view.data.rows.utteranceCounts
    : (view.statistics?.utterances.distribution ?? view.data.rows.utteranceCounts);
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
