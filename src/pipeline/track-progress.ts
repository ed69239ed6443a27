import type { IterationSummary } from '../schemas/manifest.ts';
import type { UsageByRole } from '../schemas/usage.ts';
import type { RunProgress } from './run-progress.ts';
import { totalTokens } from './iteration-tally.ts';

/**
 * Progress of a run from its iteration summaries. The ETA uses only pairs finished in this
 * session (a resume does not count earlier work as instant); with `--target` the remaining
 * work is the missing acceptances over the observed acceptance rate.
 */
export function trackProgress(input: {
  summaries: readonly IterationSummary[];
  /** LLM use of profile planning, counted in tokens and cost (updated in place as planning goes). @defaultValue none */
  planning?: { usage: UsageByRole; cost_usd: number };
  iterations: number;
  plannedPairs: () => number;
  target?: number;
}) {
  const sessionStart = Date.now();
  let sessionDone = 0;
  const sum = (pick: (summary: IterationSummary) => number) =>
    input.summaries.reduce((total, summary) => total + pick(summary), 0);
  return {
    /** Counts one pair finished in this session. */
    pairFinished(): void {
      sessionDone += 1;
    },
    snapshot(iteration: number): RunProgress {
      const done = sum((summary) => summary.done);
      const accepted = sum((summary) => summary.accepted);
      const total = input.target !== undefined ? Math.max(done, input.target) : input.plannedPairs();
      const remaining =
        input.target !== undefined
          ? Math.max(0, input.target - accepted) / Math.max(0.05, accepted / Math.max(1, done))
          : total - done;
      const elapsedMs = Date.now() - sessionStart;
      return {
        iteration,
        iterations: input.iterations,
        done,
        total,
        accepted,
        rejected: sum((summary) => summary.rejected),
        failed: sum((summary) => summary.failed),
        tokens: sum((summary) => totalTokens(summary.usage)) + (input.planning ? totalTokens(input.planning.usage) : 0),
        costUsd: sum((summary) => summary.cost_usd) + (input.planning?.cost_usd ?? 0),
        elapsedMs,
        etaMs: sessionDone > 0 ? (elapsedMs / sessionDone) * remaining : null,
      };
    },
  };
}
