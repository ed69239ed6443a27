import { z } from 'zod';
import { PairSchema } from './pair.ts';

/**
 * A pair job as it sits in the BullMQ queue: a `PairJob` whose few-shot examples are referenced by
 * id (stored once per run in `<prefix>:run:<run id>:examples`) instead of copied into every job,
 * which keeps a queued job's data near 0.3 KB instead of ~13 KB with 5 examples.
 */
export const QueuedPairJobSchema = z.object({
  run_id: z.string().min(1),
  iteration: z.number().int().min(1),
  pair: PairSchema,
  pool_version: z.number().int().min(0),
  /** Ids of the few-shot pool records, in prompt order. */
  few_shot_ids: z.array(z.string()),
});
export type QueuedPairJob = z.infer<typeof QueuedPairJobSchema>;
