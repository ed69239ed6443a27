import { z } from 'zod';
import { UsageByRoleSchema } from './usage.ts';
import { PairSchema } from './pair.ts';

/** Few-shot examples planned (`generation.few_shot`, or fewer in a small pool) and actually shown. */
export const FewShotCountSchema = z.object({
  planned: z.number().int().min(0),
  used: z.number().int().min(0),
});
export type FewShotCount = z.infer<typeof FewShotCountSchema>;

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
  /** Few-shot examples planned for the pair and shown after fitting the context (absent when no prompt was built). */
  few_shot: FewShotCountSchema.optional(),
});
export type OutcomeLine = z.infer<typeof OutcomeLineSchema>;

/** A line of `plan.jsonl`: the pairs a run will talk about, fixed when the run starts. */
export const PlannedPairSchema = z.object({
  iteration: z.number().int().min(1),
  pair: PairSchema,
});
export type PlannedPair = z.infer<typeof PlannedPairSchema>;
