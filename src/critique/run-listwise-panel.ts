import type { CriticDefinition } from '../schemas/critic.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import type { SecondOrder } from '../schemas/selection.ts';
import { listwiseReplySchema, type ListwiseReply } from '../schemas/listwise-panel.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import type { CriticDeps } from './build-critic-request.ts';
import type { ComparedCandidate } from './run-pairwise-critic.ts';
import { buildListwiseRequest } from './listwise-panel-prompt.ts';

export interface RunListwisePanelInput {
  panel: CombinedPanel;
  /** The pairwise critics: the dimensions scored. */
  rankers: readonly CriticDefinition[];
  /** Filter critics folded into the call (their `verdict.field` is answered per candidate); may be empty. */
  checks: readonly CriticDefinition[];
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  /** The candidates in the first order shown (shuffle them with the run's seed before calling). */
  candidates: readonly ComparedCandidate[];
  secondOrder: SecondOrder;
}

/** One asked order: the candidate indexes as shown, and the reply (null when unusable after repair). */
export interface ListwiseOrder {
  shown: number[];
  reply: ListwiseReply | null;
  rationale: string;
}

export interface ListwiseOutcome {
  orders: ListwiseOrder[];
  /** Per candidate index, per dimension: the mean score over the usable orders (absent without any). */
  scores: Record<number, Record<string, number>>;
  /** Per candidate index: mean score over the dimensions (absent without a usable order). */
  meanScores: Record<number, number>;
  /** Per candidate index, per folded filter critic: how many usable orders flagged it, of how many. */
  checks: Record<number, Record<string, { flagged: number; answers: number }>>;
}

/** Mean-score gap below which the first order's ranking counts as uncertain (1–10 scale). */
export const LISTWISE_CLEAR_GAP = 1;

/**
 * Scores every candidate on every ranker dimension in one call (and answers each folded filter's
 * check). With `secondOrder: always` the reversed order is asked too, concurrently; with
 * `when-uncertain` only when the other order could change the winner (`isUncertainListwise`: an
 * unusable reply, a close top two, or a flag on a contender). Scores are averaged over usable orders;
 * a check counts each order's answer. `LlmError`s other than an unusable reply propagate.
 */
export async function runListwisePanel(input: RunListwisePanelInput, deps: CriticDeps): Promise<ListwiseOutcome> {
  const firstShown = input.candidates.map((candidate) => candidate.index);
  const reversed = [...input.candidates].reverse();
  let orders: ListwiseOrder[];
  if (input.secondOrder === 'always' && input.candidates.length > 1) {
    orders = await Promise.all([askOrder(input, input.candidates, deps), askOrder(input, reversed, deps)]);
  } else {
    orders = [await askOrder(input, input.candidates, deps)];
    if (input.candidates.length > 1 && isUncertainListwise(summarizeListwise(orders, firstShown, input), input)) {
      orders.push(await askOrder(input, reversed, deps));
    }
  }
  return summarizeListwise(orders, firstShown, input);
}

async function askOrder(
  input: RunListwisePanelInput,
  shown: readonly ComparedCandidate[],
  deps: CriticDeps,
): Promise<ListwiseOrder> {
  const labels = shown.map((_candidate, position) => String(position + 1));
  const request = buildListwiseRequest(
    input.panel,
    input.rankers,
    input.checks,
    {
      user1Persona: input.user1Persona,
      user2Persona: input.user2Persona,
      shown: shown.map((candidate) => candidate.turns),
    },
    // The reply holds a score per dimension for every candidate.
    { ...deps.options, maxOutputTokens: deps.options.maxOutputTokens * Math.max(1, Math.ceil(shown.length / 2)) },
  );
  const schema = listwiseReplySchema(
    labels,
    input.rankers.map((critic) => critic.name),
    input.checks.map((critic) => critic.verdict.field),
  );
  const indexes = shown.map((candidate) => candidate.index);
  try {
    const { value } = await completeStructured(deps.backend, request, schema, `listwise_${input.panel.name}`);
    return { shown: indexes, reply: value, rationale: value.rationale };
  } catch (error) {
    if (error instanceof StructuredOutputError) {
      return { shown: indexes, reply: null, rationale: `listwise reply unusable: ${error.message}` };
    }
    throw error;
  }
}

/** Averages the usable orders' answers per candidate (pure). */
export function summarizeListwise(
  orders: readonly ListwiseOrder[],
  indexes: readonly number[],
  input: Pick<RunListwisePanelInput, 'rankers' | 'checks'>,
): ListwiseOutcome {
  const scores: ListwiseOutcome['scores'] = {};
  const meanScores: ListwiseOutcome['meanScores'] = {};
  const checks: ListwiseOutcome['checks'] = {};
  for (const index of indexes) {
    const answers = orders
      .filter((order) => order.reply !== null)
      .map((order) => order.reply!.scores[String(order.shown.indexOf(index) + 1)])
      .filter((answer) => answer !== undefined);
    checks[index] = Object.fromEntries(
      input.checks.map((critic) => [
        critic.name,
        {
          flagged: answers.filter((answer) => answer[critic.verdict.field] === critic.verdict.reject_when).length,
          answers: answers.length,
        },
      ]),
    );
    if (answers.length === 0) continue;
    scores[index] = Object.fromEntries(
      input.rankers.map((critic) => [
        critic.name,
        answers.reduce((sum, answer) => sum + Number(answer[critic.name]), 0) / answers.length,
      ]),
    );
    const values = Object.values(scores[index]);
    meanScores[index] = values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : 0;
  }
  return { orders: [...orders], scores, meanScores, checks };
}

/**
 * True when a folded check rejects the candidate: more than half of the usable answers flagged it.
 * A split vote (one of two) does not: its two answers cancel, and most candidates pass.
 */
export function isFlagged(check: { flagged: number; answers: number }): boolean {
  return check.answers > 0 && check.flagged * 2 > check.answers;
}

/** True when a folded check's usable answers split evenly (e.g. one order of two flagged it). */
export function isSplit(check: { flagged: number; answers: number }): boolean {
  return check.answers > 0 && check.flagged * 2 === check.answers;
}

/**
 * The first answer is uncertain when the other order could change the winner: no usable reply;
 * the best two unflagged candidates' mean scores are less than `LISTWISE_CLEAR_GAP` apart; or a
 * candidate a folded check flagged scores above, or less than the gap below, the best unflagged
 * one (a wrong flag would have cost the winner; the second order confirms or splits it).
 */
function isUncertainListwise(outcome: ListwiseOutcome, input: Pick<RunListwisePanelInput, 'checks'>): boolean {
  if (outcome.orders.every((order) => order.reply === null)) return true;
  const flaggedOf = (index: number) => input.checks.some((critic) => isFlagged(outcome.checks[index][critic.name]));
  const entries = Object.entries(outcome.meanScores).map(([index, mean]) => ({
    flagged: flaggedOf(Number(index)),
    mean,
  }));
  const means = entries
    .filter((entry) => !entry.flagged)
    .map((entry) => entry.mean)
    .sort((left, right) => right - left);
  if (means.length >= 2 && means[0] - means[1] < LISTWISE_CLEAR_GAP) return true;
  const leader = means[0] ?? Number.NEGATIVE_INFINITY;
  return entries.some((entry) => entry.flagged && entry.mean > leader - LISTWISE_CLEAR_GAP);
}
