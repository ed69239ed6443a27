import type { RunReportData } from './read-run-report-data.ts';
import type { TokenUsageView } from '../schemas/run-manifest-view-schema.ts';

/** One iteration as the report shows it; a field is undefined when no run file records it. */
export interface ReportIterationRow {
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
export function collectReportIterationRows(data: RunReportData): ReportIterationRow[] {
  const numbers = new Set<number>([
    ...(data.manifest?.iterations ?? []).map((entry) => entry.iteration),
    ...data.tallies.map((tally) => tally.iteration),
    ...Object.keys(data.rows.byIteration).map(Number),
  ]);
  return [...numbers]
    .sort((left, right) => left - right)
    .map((iteration) => {
      const fromManifest = data.manifest?.iterations.find((entry) => entry.iteration === iteration);
      const tally = data.tallies.find((entry) => entry.iteration === iteration);
      const rows = data.rows.byIteration[iteration] ?? 0;
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
