import type { PairwiseVerdict } from '../schemas/critic.ts';

export interface AggregateVotesInput {
  /** The candidates being ranked (the filter survivors). */
  candidateIndexes: readonly number[];
  /** Every pairwise verdict between them (one per critic per candidate pair). */
  verdicts: readonly PairwiseVerdict[];
  /** Mean filter-critic confidence per candidate index (tie-break); missing counts as 0. */
  filterConfidence: Readonly<Record<number, number>>;
}

export interface AggregateVotesResult {
  /** Copeland score per candidate index: candidate pairs won − candidate pairs lost. */
  copeland: Record<number, number>;
  /** Per candidate index, per critic: comparisons that critic's verdict gave to the candidate. */
  criticWins: Record<number, Record<string, number>>;
  /** Majority winner per candidate pair, keyed `"<lower>-<higher>"`; null for a pair tie. */
  pairWinners: Record<string, number | null>;
  /** The best candidate, or null when there are no candidates. */
  winnerIndex: number | null;
}

/**
 * Aggregates the pairwise experts' votes (a pure function).
 *
 * Rule: for each pair of candidates, every expert's verdict is one vote for its winner; tied
 * verdicts (the answer flipped with the order, or was unusable) don't vote. The candidate with more
 * votes wins the pair; equal votes (including none) make the pair a tie. A candidate's Copeland
 * score is pairs won − pairs lost. The winner has the highest Copeland score; ties are broken by the
 * higher mean filter-critic confidence, then by the lower candidate index. A single candidate wins
 * with score 0.
 */
export function aggregateVotes(input: AggregateVotesInput): AggregateVotesResult {
  const indexes = [...input.candidateIndexes];
  const known = new Set(indexes);
  if (known.size !== indexes.length) throw new Error(`duplicate candidate indexes: ${indexes.join(', ')}`);

  const critics = [...new Set(input.verdicts.map((verdict) => verdict.critic))];
  const criticWins: Record<number, Record<string, number>> = {};
  const copeland: Record<number, number> = {};
  for (const index of indexes) {
    copeland[index] = 0;
    criticWins[index] = Object.fromEntries(critics.map((critic) => [critic, 0]));
  }

  const votes = new Map<string, Map<number, number>>();
  for (const verdict of input.verdicts) {
    if (!known.has(verdict.a) || !known.has(verdict.b) || verdict.a === verdict.b) {
      throw new Error(
        `verdict of "${verdict.critic}" compares ${verdict.a} and ${verdict.b}, not two ranked candidates`,
      );
    }
    if (verdict.winner === null) continue;
    if (verdict.winner !== verdict.a && verdict.winner !== verdict.b) {
      throw new Error(
        `verdict of "${verdict.critic}" names winner ${verdict.winner}, not ${verdict.a} or ${verdict.b}`,
      );
    }
    criticWins[verdict.winner][verdict.critic] += 1;
    const key = pairKey(verdict.a, verdict.b);
    const pairVotes = votes.get(key) ?? new Map<number, number>();
    pairVotes.set(verdict.winner, (pairVotes.get(verdict.winner) ?? 0) + 1);
    votes.set(key, pairVotes);
  }

  const pairWinners: Record<string, number | null> = {};
  const sorted = [...indexes].sort((left, right) => left - right);
  for (const [position, first] of sorted.entries()) {
    for (const second of sorted.slice(position + 1)) {
      const key = pairKey(first, second);
      const firstVotes = votes.get(key)?.get(first) ?? 0;
      const secondVotes = votes.get(key)?.get(second) ?? 0;
      const winner = firstVotes > secondVotes ? first : secondVotes > firstVotes ? second : null;
      pairWinners[key] = winner;
      if (winner === null) continue;
      const loser = winner === first ? second : first;
      copeland[winner] += 1;
      copeland[loser] -= 1;
    }
  }

  const ranked = [...indexes].sort(
    (left, right) =>
      copeland[right] - copeland[left] ||
      (input.filterConfidence[right] ?? 0) - (input.filterConfidence[left] ?? 0) ||
      left - right,
  );
  return { copeland, criticWins, pairWinners, winnerIndex: ranked[0] ?? null };
}

function pairKey(first: number, second: number): string {
  return first < second ? `${first}-${second}` : `${second}-${first}`;
}
