import { z } from 'zod';

/**
 * How the best candidate of a pair is chosen (`critique.selection`):
 * - `round-robin` (the paper): every pair of survivors is compared, N(N−1)/2 comparisons;
 * - `knockout`: a single-elimination bracket, N−1 comparisons;
 * - `listwise`: one call scores every survivor on every ranker dimension at once.
 */
export const SelectionMethodSchema = z.enum(['round-robin', 'knockout', 'listwise']);
export type SelectionMethod = z.infer<typeof SelectionMethodSchema>;

/**
 * When the second presentation order is asked (`critique.second_order`):
 * - `always` (the paper): every comparison in both orders; a flip is a tie;
 * - `when-uncertain`: the second order only when the first answer is uncertain (pairwise: the
 *   dimensions split by one vote or less, or an answer is missing; listwise: the other order could
 *   change the winner: the two best mean scores are less than one point apart, a candidate a folded
 *   check flagged scores above or within a point of the best unflagged one, or the reply was
 *   unusable).
 */
export const SecondOrderSchema = z.enum(['always', 'when-uncertain']);
export type SecondOrder = z.infer<typeof SecondOrderSchema>;

/**
 * How the LLM filter critics are asked (`critique.filters`):
 * - `separate` (the paper): one call per filter critic per candidate, in order;
 * - `folded`: the listwise call also answers each filter's verdict field for every candidate
 *   (`critique.selection: listwise` only); a majority of the asked orders rejects, and a split vote
 *   on the candidate that would win is settled by that filter critic's own call;
 * - `combined`: one call per candidate answers every filter critic's check
 *   (`critics/panel/filters.md`); works with every selection method.
 */
export const FilterModeSchema = z.enum(['separate', 'folded', 'combined']);
export type FilterMode = z.infer<typeof FilterModeSchema>;

/** A resolved selection scheme: every choice made. Recorded in each row's lineage (`describeSelection`). */
export const SelectionSchemeSchema = z.object({
  method: SelectionMethodSchema,
  /** Pairwise comparisons (round robin, knockout): one call per expert, or one combined panel call. */
  panel: z.enum(['per-expert', 'combined']),
  second_order: SecondOrderSchema,
  filters: FilterModeSchema,
});
export type SelectionScheme = z.infer<typeof SelectionSchemeSchema>;
