import { z } from 'zod';
import { PairSchema } from './pair.ts';
import { PoolRecordSchema } from './conversation.ts';

/**
 * One unit of work: generate and judge candidates for one pair in one iteration.
 * Self-contained (it carries its few-shot examples) so any executor can run it.
 */
export const PairJobSchema = z.object({
  run_id: z.string(),
  iteration: z.number().int().min(1),
  pair: PairSchema,
  few_shot: z.array(PoolRecordSchema),
  pool_version: z.number().int().min(0),
});
export type PairJob = z.infer<typeof PairJobSchema>;

/** Deterministic job id: the same (run, iteration, pair) is the same job everywhere. */
export function pairJobId(job: Pick<PairJob, 'run_id' | 'iteration' | 'pair'>): string {
  return `${job.run_id}:it${job.iteration}:${job.pair.id}`;
}
