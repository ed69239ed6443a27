import { z } from 'zod';

/**
 * What the critic model replies when asked whether a candidate attribute contradicts a profile
 * (schema name `contradiction_check`). `contradicts` is true when the candidate contradicts any
 * held attribute or any held attribute contradicts the candidate.
 */
export const ContradictionCheckReplySchema = z.object({
  /** Why the candidate does or does not contradict the profile (one or two sentences). */
  rationale: z.string(),
  /** True when the candidate and at least one held attribute cannot both be true of one person. */
  contradicts: z.boolean(),
});
export type ContradictionCheckReply = z.infer<typeof ContradictionCheckReplySchema>;
