import type { PairwiseVerdict } from '../schemas/critic.ts';
import { pairWinnerOf } from './compare-candidates.ts';

export interface RunKnockoutInput {
  /** Candidate indexes in bracket order (shuffle them with the run's seed before calling). */
  bracket: readonly number[];
  /** Compares two candidates; `first` is the candidate shown as A when one order is asked first. */
  compare: (first: number, second: number) => Promise<PairwiseVerdict[]>;
  /** Mean filter-critic confidence per candidate index: the tie-break, as in `aggregateVotes`. */
  filterConfidence: Readonly<Record<number, number>>;
}

export interface RunKnockoutResult {
  winnerIndex: number | null;
  /** Every verdict of every match, in match order. */
  verdicts: PairwiseVerdict[];
  /** Matches played (N − 1 for N candidates). */
  matches: number;
}

/**
 * A single-elimination tournament: each round pairs neighbours of the bracket (1st v 2nd, 3rd v
 * 4th, …; an odd one out advances without a match), the matches of a round run concurrently, and
 * the match winner is the candidate more dimensions voted for; a tie goes to the higher filter
 * confidence, then the lower index. N candidates play N − 1 matches instead of round robin's
 * N(N−1)/2.
 */
export async function runKnockout(input: RunKnockoutInput): Promise<RunKnockoutResult> {
  let round = [...input.bracket];
  const verdicts: PairwiseVerdict[] = [];
  let matches = 0;
  while (round.length > 1) {
    const pairs: Array<[number, number]> = [];
    for (let position = 0; position + 1 < round.length; position += 2)
      pairs.push([round[position], round[position + 1]]);
    const results = await Promise.all(pairs.map(([first, second]) => input.compare(first, second)));
    const next: number[] = [];
    for (const [position, [first, second]] of pairs.entries()) {
      verdicts.push(...results[position]);
      next.push(pairWinnerOf(results[position], first, second) ?? breakTie(first, second, input.filterConfidence));
    }
    if (round.length % 2 === 1) next.push(round[round.length - 1]);
    matches += pairs.length;
    round = next;
  }
  return { winnerIndex: round[0] ?? null, verdicts, matches };
}

function breakTie(first: number, second: number, confidence: Readonly<Record<number, number>>): number {
  const difference = (confidence[second] ?? 0) - (confidence[first] ?? 0);
  if (difference !== 0) return difference > 0 ? second : first;
  return Math.min(first, second);
}
