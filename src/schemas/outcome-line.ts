import { z } from 'zod';
import { UsageByRoleSchema } from './usage.ts';
import { PairSchema } from './pair.ts';

/** A line of `outcomes.jsonl`: the commit record of one finished (iteration, pair) job. */
export const OutcomeLineSchema = z.object({
  iteration: z.number().int().min(1),
  pair_id: z.string(),
  status: z.enum(['accepted', 'rejected', 'failed']),
  row_id: z.string().nullable(),
  /** Candidates generated (all attempts). */
  candidates: z.number().int().min(0),
  /** Candidates removed, by the check or critic that removed them. */
  reasons: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  usage: UsageByRoleSchema,
  cost_usd: z.number().min(0),
  duration_ms: z.number().min(0),
});
export type OutcomeLine = z.infer<typeof OutcomeLineSchema>;

/** A line of `plan.jsonl`: the pairs a run will talk about, fixed when the run starts. */
export const PlannedPairSchema = z.object({
  iteration: z.number().int().min(1),
  pair: PairSchema,
});
export type PlannedPair = z.infer<typeof PlannedPairSchema>;
