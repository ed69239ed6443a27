import { PairwiseReplySchema, type CriticDefinition, type PairwiseVerdict } from '../schemas/critic.ts';
import type { Turn } from '../schemas/turn.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import { buildCriticRequest, criticSchemaName, type CriticDeps } from './build-critic-request.ts';

/** A candidate conversation in a comparison. */
export interface ComparedCandidate {
  index: number;
  turns: readonly Turn[];
}

export interface RunPairwiseCriticInput {
  /** A critic of kind `pairwise`. */
  critic: CriticDefinition;
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  a: ComparedCandidate;
  b: ComparedCandidate;
}

/**
 * Asks one pairwise critic to compare candidates `a` and `b` in both orders (a shown as A, then b
 * shown as A), concurrently, against position bias. When both orders pick the same candidate it
 * wins; when the answer flips with the order it is a tie (`winner: null`). An order whose reply is
 * unusable after repair (`StructuredOutputError`) has no winner, so the comparison is a tie. Other
 * `LlmError`s propagate.
 */
export async function runPairwiseCritic(input: RunPairwiseCriticInput, deps: CriticDeps): Promise<PairwiseVerdict> {
  const { critic, a, b } = input;
  if (critic.kind !== 'pairwise') throw new Error(`critic "${critic.name}" is not a pairwise critic`);
  const [first, second] = await Promise.all([askPairwiseOrder(input, a, b, deps), askPairwiseOrder(input, b, a, deps)]);
  const winner = first.winner !== null && first.winner === second.winner ? first.winner : null;
  return {
    critic: critic.name,
    kind: 'pairwise',
    a: a.index,
    b: b.index,
    winner,
    orderWinners: [first.winner, second.winner],
    rationale: `[candidate ${a.index} as A] ${first.rationale}\n[candidate ${b.index} as A] ${second.rationale}`,
  };
}

/** Asks one pairwise critic one order: `shownAsA` as conversation A. An unusable reply has no winner. */
export async function askPairwiseOrder(
  input: RunPairwiseCriticInput,
  shownAsA: ComparedCandidate,
  shownAsB: ComparedCandidate,
  deps: CriticDeps,
): Promise<{ winner: number | null; rationale: string }> {
  const request = buildCriticRequest(
    input.critic,
    {
      kind: 'pairwise',
      user1Persona: input.user1Persona,
      user2Persona: input.user2Persona,
      turnsA: shownAsA.turns,
      turnsB: shownAsB.turns,
    },
    deps.options,
  );
  try {
    const { value } = await completeStructured(
      deps.backend,
      request,
      PairwiseReplySchema,
      criticSchemaName(input.critic),
    );
    return { winner: value.winner === 'A' ? shownAsA.index : shownAsB.index, rationale: value.rationale };
  } catch (error) {
    if (error instanceof StructuredOutputError) {
      return { winner: null, rationale: `critic reply unusable: ${error.message}` };
    }
    throw error;
  }
}
