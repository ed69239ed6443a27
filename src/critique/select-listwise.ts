import type { CriticDefinition, FilterVerdict, PairwiseVerdict } from '../schemas/critic.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import type { SecondOrder } from '../schemas/selection.ts';
import type { CriticDeps } from './build-critic-request.ts';
import type { ComparedCandidate } from './run-pairwise-critic.ts';
import { isFlagged, isSplit, runListwisePanel } from './run-listwise-panel.ts';
import { runFilterCritic } from './run-filter-critic.ts';
import { deriveListwiseVerdicts } from './derive-listwise-verdicts.ts';

export interface SelectListwiseInput {
  panel: CombinedPanel;
  rankers: readonly CriticDefinition[];
  /** Filter critics folded into the listwise call (empty with separate filters). */
  checks: readonly CriticDefinition[];
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  /** The surviving candidates in the first order shown (shuffled with the run's seed). */
  shown: readonly ComparedCandidate[];
  secondOrder: SecondOrder;
  /** Mean LLM-filter confidence per candidate index from the separate filters (tie-break); 1 when none ran. */
  filterConfidence: Readonly<Record<number, number>>;
}

export interface ListwiseSelection {
  /** Index of the winner, or null when every shown candidate was rejected by a check. */
  winnerIndex: number | null;
  /** New filter verdicts per candidate index (folded checks, then any tie-breaking filter call), in order. */
  filterVerdicts: Record<number, FilterVerdict[]>;
  /** First check that rejected a candidate, per rejected candidate index. */
  rejectedBy: Record<number, string>;
  /** Per-expert-shaped verdicts among the candidates no check rejected. */
  verdicts: PairwiseVerdict[];
  /** The winner's mean listwise score, when it has one. */
  winnerScore?: number;
}

/**
 * Listwise selection (`critique.selection: listwise`): `runListwisePanel` scores every shown
 * candidate (and answers the folded checks), then the highest mean score wins; ties go to the
 * higher filter confidence, then the lower index.
 *
 * Folded checks: a candidate is rejected when more than half of the usable orders flagged it
 * (`isFlagged`). A split vote (one order of two flagged it) carries no evidence either way, so it
 * rejects nothing, except for the candidate that would win: a split on its check is settled by
 * that filter critic's own call (`runFilterCritic`, with the critic file's full prompt), and if it
 * rejects, the next candidate in score order is considered the same way.
 */
export async function selectListwise(input: SelectListwiseInput, deps: CriticDeps): Promise<ListwiseSelection> {
  const outcome = await runListwisePanel(
    {
      panel: input.panel,
      rankers: input.rankers,
      checks: input.checks,
      user1Persona: input.user1Persona,
      user2Persona: input.user2Persona,
      candidates: input.shown,
      secondOrder: input.secondOrder,
    },
    deps,
  );
  const rationale = outcome.orders.map((order) => order.rationale).join(' | ');
  const filterVerdicts: Record<number, FilterVerdict[]> = {};
  const rejectedBy: Record<number, string> = {};
  for (const candidate of input.shown) {
    filterVerdicts[candidate.index] = input.checks.map((critic): FilterVerdict => {
      const check = outcome.checks[candidate.index][critic.name];
      const flagged = isFlagged(check);
      if (flagged) rejectedBy[candidate.index] ??= critic.name;
      return {
        critic: critic.name,
        kind: 'filter',
        source: 'llm',
        passed: !flagged,
        // Agreement of the asked orders; 0 when no order gave a usable answer (nothing rejected).
        confidence: check.answers ? Math.max(check.flagged, check.answers - check.flagged) / check.answers : 0,
        rationale: `listwise panel check, flagged in ${check.flagged} of ${check.answers} usable order(s): ${rationale}`,
      };
    });
  }

  // Folded and separate filters never both run: the tie-break confidence comes from whichever did.
  const confidenceOf = (index: number) => {
    const folded = filterVerdicts[index];
    return folded.length
      ? folded.reduce((sum, verdict) => sum + verdict.confidence, 0) / folded.length
      : (input.filterConfidence[index] ?? 1);
  };
  const ranked = input.shown
    .map((candidate) => candidate.index)
    .filter((index) => rejectedBy[index] === undefined)
    .sort(
      (left, right) =>
        (outcome.meanScores[right] ?? 0) - (outcome.meanScores[left] ?? 0) ||
        confidenceOf(right) - confidenceOf(left) ||
        left - right,
    );

  let winnerIndex: number | null = null;
  const byIndex = new Map(input.shown.map((candidate) => [candidate.index, candidate]));
  for (const index of ranked) {
    for (const critic of input.checks) {
      if (!isSplit(outcome.checks[index][critic.name])) continue;
      // Sequential on purpose: only the would-be winner's split votes are worth a call.
      const verdict = await runFilterCritic(
        {
          critic,
          user1Persona: input.user1Persona,
          user2Persona: input.user2Persona,
          turns: byIndex.get(index)!.turns,
        },
        deps,
      );
      filterVerdicts[index].push({ ...verdict, rationale: `split listwise check settled: ${verdict.rationale}` });
      if (!verdict.passed) {
        rejectedBy[index] = critic.name;
        break;
      }
    }
    if (rejectedBy[index] === undefined) {
      winnerIndex = index;
      break;
    }
  }

  const kept = ranked.filter((index) => rejectedBy[index] === undefined).sort((left, right) => left - right);
  return {
    winnerIndex,
    filterVerdicts,
    rejectedBy,
    verdicts: deriveListwiseVerdicts(kept, input.rankers, outcome.scores),
    ...(winnerIndex !== null &&
      outcome.meanScores[winnerIndex] !== undefined && { winnerScore: outcome.meanScores[winnerIndex] }),
  };
}
