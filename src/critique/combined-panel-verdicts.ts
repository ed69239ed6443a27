import type { PairwiseVerdict } from '../schemas/critic.ts';
import type { CombinedPanelReply } from '../schemas/combined-panel.ts';

/** One order's answer of the panel, per dimension: the winning candidate index (null: no usable answer) and why. */
export interface PanelOrderAnswer {
  winners: Record<string, number | null>;
  rationales: Record<string, string>;
}

/**
 * Maps a validated panel reply for one order onto candidate indexes: `"A"` is the candidate shown
 * as A. A dimension missing from the reply (only possible when the reply was not validated against
 * the same dimensions) counts as no answer.
 */
export function readPanelReply(
  reply: CombinedPanelReply,
  dimensions: readonly string[],
  shownAsA: number,
  shownAsB: number,
): PanelOrderAnswer {
  const answer: PanelOrderAnswer = { winners: {}, rationales: {} };
  for (const name of dimensions) {
    const verdict = reply[name];
    answer.winners[name] = verdict === undefined ? null : verdict.winner === 'A' ? shownAsA : shownAsB;
    answer.rationales[name] = verdict === undefined ? 'panel reply has no verdict for this quality' : verdict.rationale;
  }
  return answer;
}

/** The answer of an order whose reply was unusable: no winner for any dimension. */
export function unusablePanelReply(dimensions: readonly string[], reason: string): PanelOrderAnswer {
  const rationale = `panel reply unusable: ${reason}`;
  return {
    winners: Object.fromEntries(dimensions.map((name) => [name, null])),
    rationales: Object.fromEntries(dimensions.map((name) => [name, rationale])),
  };
}

/**
 * Combines the two orders (a shown as A, then b shown as A) into one pairwise verdict per
 * dimension, with exactly the per-expert rule: the candidate both orders picked wins; an answer
 * that flips with the order, or a missing answer, is a tie (`winner: null`). The verdicts have the
 * per-expert shape (`critic` = the dimension's critic name), so `aggregateVotes` treats them alike.
 */
export function combinePanelOrders(
  dimensions: readonly string[],
  a: number,
  b: number,
  first: PanelOrderAnswer,
  second: PanelOrderAnswer,
): PairwiseVerdict[] {
  return dimensions.map((name) => {
    const firstWinner = first.winners[name] ?? null;
    const secondWinner = second.winners[name] ?? null;
    return {
      critic: name,
      kind: 'pairwise',
      a,
      b,
      winner: firstWinner !== null && firstWinner === secondWinner ? firstWinner : null,
      orderWinners: [firstWinner, secondWinner],
      rationale: `[candidate ${a} as A] ${first.rationales[name] ?? ''}\n[candidate ${b} as A] ${second.rationales[name] ?? ''}`,
    };
  });
}
