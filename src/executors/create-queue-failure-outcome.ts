import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import { emptyUsageByRole } from '../schemas/usage.ts';

/** The outcome of a job BullMQ gave up on (attempts used up, stalled too often). */
export function createQueueFailureOutcome(job: PairJob, reason: string): PairOutcome {
  return {
    pair_id: job.pair.id,
    iteration: job.iteration,
    status: 'failed',
    row: null,
    candidates: [],
    reasons: {},
    error: `job failed in the queue: ${reason}`,
    usage: emptyUsageByRole(),
    duration_ms: 0,
  };
}
