import { iteratePairJobs, type Executor, type PairJobSource } from './executor.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';

/** Pairs in flight from which finished pairs are held briefly to share durable writes. */
const GROUP_COMMIT_MIN_CONCURRENCY = 8;

/**
 * Runs jobs in this process, `concurrency` at a time. The default executor. Each job reports its
 * outcome as soon as it finishes and holds its slot until the outcome is written.
 */
export class InProcessExecutor implements Executor {
  readonly kind = 'in-process';
  /**
   * With many pairs in flight, a finished pair waits up to 100 ms for others to share one durable
   * write of the run files (at ~36 pairs/s: ~1 write per file per 3–4 pairs instead of one each).
   */
  readonly commitLingerMs: number;

  constructor(
    private readonly runJob: (job: PairJob) => Promise<PairOutcome>,
    /** Jobs in flight at once. @defaultValue 4 */
    private readonly concurrency = 4,
  ) {
    this.commitLingerMs = concurrency >= GROUP_COMMIT_MIN_CONCURRENCY ? 100 : 0;
  }

  async run(jobs: PairJobSource, onOutcome: (outcome: PairOutcome) => Promise<void>, signal?: AbortSignal) {
    // `concurrency` lanes pull the next job as they free up: only the jobs in flight are held.
    const pending = iteratePairJobs(jobs);
    let stopped = false;
    const lane = async () => {
      while (!stopped && !signal?.aborted) {
        const next = await pending.next();
        if (next.done || stopped || signal?.aborted) return;
        try {
          await onOutcome(await this.runJob(next.value));
        } catch (error) {
          // A fatal error (e.g. unreachable endpoint): start nothing else.
          stopped = true;
          throw error;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: this.concurrency }, lane));
    } finally {
      // Closes the source (e.g. the plan file it streams) when the wave stops before its end.
      await pending.return?.();
    }
  }

  async close() {}
}
