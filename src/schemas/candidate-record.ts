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
