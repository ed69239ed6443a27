import { z } from 'zod';
import { TurnSchema } from './turn.ts';
import { FilterVerdictSchema, PairwiseVerdictSchema } from './critic.ts';

/** Every generated candidate with every verdict: a line of `candidates.jsonl`. */
export const CandidateRecordSchema = z.object({
  run_id: z.string(),
  iteration: z.number().int().min(1),
  pair_id: z.string(),
  candidate_index: z.number().int().min(0),
  /** Raw generator reply, kept even when it did not parse. */
  raw_text: z.string(),
  /** Repairs the parser made to `raw_text` (kind -> lines touched; see `PARSE_REPAIR_KINDS`). */
  parse_repairs: z.record(z.string(), z.number().int().min(0)).optional(),
  /** Why `raw_text` could not be read as a conversation (the candidate is then filtered by the lint). */
  parse_error: z.string().optional(),
  turns: z.array(TurnSchema),
  filters: z.array(FilterVerdictSchema),
  /** Pairwise verdicts this candidate took part in. */
  pairwise: z.array(PairwiseVerdictSchema),
  /** Copeland score (wins − losses over candidate pairs); null when filtered. */
  copeland: z.number().nullable(),
  status: z.enum(['filtered', 'ranked', 'winner']),
  /** Name of the first check that removed it, when filtered. */
  filtered_by: z.string().nullable(),
});
export type CandidateRecord = z.infer<typeof CandidateRecordSchema>;
