import type { PairJob } from '../schemas/pair-job.ts';
import type { QueuedPairJob } from '../schemas/queued-pair-job.ts';

/** The BullMQ payload of a pair job: few-shot records travel as ids (they are stored once per run in Redis). */
export function toQueuedPairJob(job: PairJob): QueuedPairJob {
  return {
    run_id: job.run_id,
    iteration: job.iteration,
    pair: job.pair,
    pool_version: job.pool_version,
    few_shot_ids: job.few_shot.map((record) => record.id),
  };
}
