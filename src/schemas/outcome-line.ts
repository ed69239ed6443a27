import { z } from 'zod';
import { UsageByRoleSchema } from './usage.ts';
import { PairSchema } from './pair.ts';

/** Few-shot examples planned (`generation.few_shot`, or fewer in a small pool) and actually shown. */
export const FewShotCountSchema = z.object({
  planned: z.number().int().min(0),
  used: z.number().int().min(0),
});
export type FewShotCount = z.infer<typeof FewShotCountSchema>;

/**
 * How generator replies parsed (`parseConversation`), counted in candidates: `repaired_by_kind`
 * counts the candidates that needed each kind of repair (one candidate may need several).
 */
export const ReplyParsingSchema = z.object({
  replies: z.number().int().min(0),
  /** Parsed after at least one repair. */
  repaired: z.number().int().min(0),
  /** Could not be read as a conversation: rejected candidates with the reason in `candidates.jsonl`. */
  unparsable: z.number().int().min(0),
  repaired_by_kind: z.record(z.string(), z.number().int().min(0)),
});
export type ReplyParsing = z.infer<typeof ReplyParsingSchema>;

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
  /** How the pair's generator replies parsed: clean, repaired (by kind) or unparsable. */
  reply_parsing: ReplyParsingSchema.optional(),
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
