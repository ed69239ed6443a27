import type { ExpansionStats } from '../../schemas/persona-expansion.ts';

/** The expansion statistics as a small text table (the paper's Table 1 layout) plus rejections. */
export function formatExpansionStats(stats: ExpansionStats): string {
  const rows: [string, string, string][] = [
    ['#attributes', String(stats.seed.attributes), String(stats.expanded.attributes)],
    ['#clusters', String(stats.seed.clusters), String(stats.expanded.clusters)],
    [
      'mean inter-cluster distance',
      stats.seed.mean_inter_cluster_distance.toFixed(3),
      stats.expanded.mean_inter_cluster_distance.toFixed(3),
    ],
    ['mean length (tokens)', stats.seed.mean_length_tokens.toFixed(2), stats.expanded.mean_length_tokens.toFixed(2)],
  ];
  const width = Math.max(...rows.map((row) => row[0].length));
  const lines = [
    `${''.padEnd(width)}  ${'seed'.padStart(8)}  ${'expanded'.padStart(8)}`,
    ...rows.map(([label, seed, expanded]) => `${label.padEnd(width)}  ${seed.padStart(8)}  ${expanded.padStart(8)}`),
    `questions: ${stats.queries.induced} induced, ${stats.queries.bootstrapped} bootstrapped; embedder ${stats.embedder}, cluster threshold ${stats.cluster_threshold}`,
    `rejected: ${stats.rejected.near_duplicate} near-duplicate, ${stats.rejected.malformed} malformed, ` +
      `${stats.rejected.duplicate_query} duplicate questions, ${stats.rejected.invalid_reply} invalid replies`,
  ];
  return lines.join('\n');
}
