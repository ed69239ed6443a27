import type { CriticDefinition, PairwiseVerdict } from '../schemas/critic.ts';

/**
 * Pairwise verdicts in the per-expert shape, derived from listwise scores: for every pair of
 * candidates (in the given order) and every ranker, the higher score on that dimension wins; equal
 * or missing scores are a tie (`winner: null`). Listwise records and Copeland scores then read like
 * round-robin ones.
 */
export function deriveListwiseVerdicts(
  candidateIndexes: readonly number[],
  rankers: readonly CriticDefinition[],
  scores: Readonly<Record<number, Readonly<Record<string, number>>>>,
): PairwiseVerdict[] {
  return candidateIndexes.flatMap((a, position) =>
    candidateIndexes.slice(position + 1).flatMap((b) =>
      rankers.map((critic): PairwiseVerdict => {
        const scoreA = scores[a]?.[critic.name];
        const scoreB = scores[b]?.[critic.name];
        const winner =
          scoreA === undefined || scoreB === undefined || scoreA === scoreB ? null : scoreA > scoreB ? a : b;
        return {
          critic: critic.name,
          kind: 'pairwise',
          a,
          b,
          winner,
          orderWinners: [winner, null],
          rationale: `listwise scores ${scoreA ?? 'none'} (candidate ${a}) v ${scoreB ?? 'none'} (candidate ${b})`,
        };
      }),
    ),
  );
}
