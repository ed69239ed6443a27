import { z } from 'zod';
import { DatasetRowSchema } from './dataset-row.ts';
import { CandidateRecordSchema } from './candidate-record.ts';
import { UsageByRoleSchema } from './usage.ts';
import { FewShotCountSchema } from './outcome-line.ts';

/**
 * What one (iteration, pair) job returns to the coordinator.
 * accepted: a row; rejected: every candidate filtered (with reasons); failed: an error stopped it.
 */
export const PairOutcomeSchema = z.object({
  pair_id: z.string(),
  iteration: z.number().int().min(1),
  status: z.enum(['accepted', 'rejected', 'failed']),
  row: DatasetRowSchema.nullable(),
  candidates: z.array(CandidateRecordSchema),
  /** Rejection reasons (critic name -> candidates it removed) or the error message. */
  reasons: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  usage: UsageByRoleSchema,
  duration_ms: z.number().min(0),
  /** Few-shot examples planned and shown after fitting the context (absent when no prompt was built). */
  few_shot: FewShotCountSchema.optional(),
});
export type PairOutcome = z.infer<typeof PairOutcomeSchema>;
