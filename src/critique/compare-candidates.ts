import type { CriticDefinition, PairwiseVerdict } from '../schemas/critic.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import type { SelectionScheme } from '../schemas/selection.ts';
import type { CriticDeps } from './build-critic-request.ts';
import { askPairwiseOrder, runPairwiseCritic, type ComparedCandidate } from './run-pairwise-critic.ts';
import { askCombinedPanelOrder, runCombinedPanel } from './combined-panel-run.ts';
import { combinePanelOrders, type PanelOrderAnswer } from './combined-panel-verdicts.ts';

export interface CompareCandidatesInput {
  /** The pairwise critics (the dimensions), in critic order. */
  rankers: readonly CriticDefinition[];
  /** The combined panel prompt; required when `scheme.panel` is `combined`. */
  panel?: CombinedPanel;
  scheme: Pick<SelectionScheme, 'panel' | 'second_order'>;
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  a: ComparedCandidate;
  b: ComparedCandidate;
  /** Which candidate is shown as A in the first (with `when-uncertain` often the only) order. */
  firstShown: 'a' | 'b';
}

/**
 * Compares two candidates on every ranker dimension and returns one `PairwiseVerdict` per
 * dimension (the per-expert shape `aggregateVotes` reads), asking one call per expert per order
 * (`panel: per-expert`) or one combined panel call per order (`panel: combined`).
 *
 * `second_order: always` asks both orders concurrently: agreeing orders win, a flip is a tie.
 * `when-uncertain` asks the `firstShown` order first and the other order only when that answer is
 * uncertain (`isUncertainAnswer`); then the both-orders rule applies. A certain first answer is
 * the verdict, with the unasked order's winner null in `orderWinners`.
 */
export async function compareCandidates(input: CompareCandidatesInput, deps: CriticDeps): Promise<PairwiseVerdict[]> {
  const { a, b, rankers, scheme } = input;
  if (rankers.length === 0) return [];
  if (scheme.panel === 'combined' && !input.panel)
    throw new Error('the combined panel prompt is required for panel "combined"');
  const personas = { user1Persona: input.user1Persona, user2Persona: input.user2Persona };
  if (scheme.second_order === 'always') {
    return scheme.panel === 'combined'
      ? runCombinedPanel({ panel: input.panel!, dimensions: rankers, ...personas, a, b }, deps)
      : Promise.all(rankers.map((critic) => runPairwiseCritic({ critic, ...personas, a, b }, deps)));
  }

  const names = rankers.map((critic) => critic.name);
  const askOrder = async (shownAsA: ComparedCandidate, shownAsB: ComparedCandidate): Promise<PanelOrderAnswer> => {
    if (scheme.panel === 'combined') {
      return askCombinedPanelOrder(
        { panel: input.panel!, dimensions: rankers, ...personas, a, b },
        shownAsA,
        shownAsB,
        deps,
      );
    }
    const answers = await Promise.all(
      rankers.map((critic) => askPairwiseOrder({ critic, ...personas, a, b }, shownAsA, shownAsB, deps)),
    );
    return {
      winners: Object.fromEntries(names.map((name, position) => [name, answers[position].winner])),
      rationales: Object.fromEntries(names.map((name, position) => [name, answers[position].rationale])),
    };
  };

  const aFirst = input.firstShown === 'a';
  const first = aFirst ? await askOrder(a, b) : await askOrder(b, a);
  if (isUncertainAnswer(first, names)) {
    const second = aFirst ? await askOrder(b, a) : await askOrder(a, b);
    return aFirst
      ? combinePanelOrders(names, a.index, b.index, first, second)
      : combinePanelOrders(names, a.index, b.index, second, first);
  }
  const shownFirst = aFirst ? a.index : b.index;
  return names.map((name) => {
    const winner = first.winners[name] ?? null;
    return {
      critic: name,
      kind: 'pairwise',
      a: a.index,
      b: b.index,
      winner,
      orderWinners: aFirst ? [winner, null] : [null, winner],
      rationale: `[candidate ${shownFirst} as A; second order not asked: the first answer was clear] ${first.rationales[name] ?? ''}`,
    };
  });
}

/**
 * An order's answer is uncertain when a dimension has no usable answer or the dimensions split
 * by at most one vote (3–2 of 5, and always with a single dimension).
 */
export function isUncertainAnswer(answer: PanelOrderAnswer, dimensions: readonly string[]): boolean {
  const votes = new Map<number, number>();
  for (const name of dimensions) {
    const winner = answer.winners[name];
    if (winner === null || winner === undefined) return true;
    votes.set(winner, (votes.get(winner) ?? 0) + 1);
  }
  const counts = [...votes.values()];
  const margin = counts.length === 1 ? counts[0] : Math.abs((counts[0] ?? 0) - (counts[1] ?? 0));
  return margin <= 1;
}

/** The pair winner from per-dimension verdicts (more votes wins), or null for a tie. */
export function pairWinnerOf(verdicts: readonly PairwiseVerdict[], a: number, b: number): number | null {
  const votesA = verdicts.filter((verdict) => verdict.winner === a).length;
  const votesB = verdicts.filter((verdict) => verdict.winner === b).length;
  return votesA > votesB ? a : votesB > votesA ? b : null;
}
