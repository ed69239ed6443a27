import { binValueCounts, renderBarChart } from './render-bar-chart.ts';
import type { RunReportData } from './read-run-report-data.ts';
import { REPORT_CHART_COLORS } from './report-chart-colors.ts';

/** Histograms of the Copeland scores and of each critic's scores on accepted rows (first 16 critics by name). */
export function renderScoresSection(data: RunReportData): string {
  const byCritic = data.rows.scores;
  const charts: string[] = [];
  if (data.copelandScores.size) {
    const bins = binValueCounts(data.copelandScores);
    charts.push(
      renderBarChart({
        id: 'score-copeland-candidates',
        title: 'Copeland score of every ranked candidate',
        categories: bins.labels,
        valueLabel: 'candidates',
        series: [{ name: 'candidates', values: bins.counts, color: REPORT_CHART_COLORS[4] }],
      }),
    );
  }
  [...byCritic.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .slice(0, 16)
    .forEach(([critic, values], index) => {
      const bins = binValueCounts(values, 12);
      charts.push(
        renderBarChart({
          id: `score-${critic}`,
          title: `Accepted rows: ${critic}`,
          categories: bins.labels,
          valueLabel: 'rows',
          width: 420,
          height: 200,
          series: [
            { name: critic, values: bins.counts, color: REPORT_CHART_COLORS[index % REPORT_CHART_COLORS.length] },
          ],
        }),
      );
    });
  if (!charts.length) return '<p class="muted">No scores yet.</p>';
  return `<div class="charts">${charts.join('')}</div>`;
}
