import type { CriticDefinition, PairwiseVerdict } from '../schemas/critic.ts';
import { combinedPanelReplySchema, type CombinedPanel } from '../schemas/combined-panel.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import type { CriticDeps } from './build-critic-request.ts';
import { buildCombinedPanelRequest, combinedPanelSchemaName } from './combined-panel-prompt.ts';
import {
  combinePanelOrders,
  readPanelReply,
  unusablePanelReply,
  type PanelOrderAnswer,
} from './combined-panel-verdicts.ts';
import type { ComparedCandidate } from './run-pairwise-critic.ts';

export interface RunCombinedPanelInput {
  panel: CombinedPanel;
  /** The pairwise critics the panel judges for (their names and descriptions), in critic order. */
  dimensions: readonly CriticDefinition[];
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  a: ComparedCandidate;
  b: ComparedCandidate;
}

/**
 * Compares candidates `a` and `b` on every pairwise dimension with one panel call per order (a
 * shown as A, then b shown as A), concurrently: 2 calls instead of 2 per dimension. Returns one
 * `PairwiseVerdict` per dimension, decided like `runPairwiseCritic` (agreeing orders win, a flip is
 * a tie). An order whose reply is unusable after repair (`StructuredOutputError`) has no winner
 * for any dimension. Other `LlmError`s propagate. Each order may use `maxOutputTokens` per
 * dimension (its reply holds one critic verdict per dimension).
 */
export async function runCombinedPanel(input: RunCombinedPanelInput, deps: CriticDeps): Promise<PairwiseVerdict[]> {
  const names = input.dimensions.map((dimension) => dimension.name);
  const stray = input.dimensions.find((dimension) => dimension.kind !== 'pairwise');
  if (stray) throw new Error(`critic "${stray.name}" is not a pairwise critic`);
  if (names.length === 0) return [];
  const [first, second] = await Promise.all([
    askCombinedPanelOrder(input, input.a, input.b, deps),
    askCombinedPanelOrder(input, input.b, input.a, deps),
  ]);
  return combinePanelOrders(names, input.a.index, input.b.index, first, second);
}

/** Asks the combined panel one order: `shownAsA` as conversation A. An unusable reply has no winners. */
export async function askCombinedPanelOrder(
  input: RunCombinedPanelInput,
  shownAsA: ComparedCandidate,
  shownAsB: ComparedCandidate,
  deps: CriticDeps,
): Promise<PanelOrderAnswer> {
  const names = input.dimensions.map((dimension) => dimension.name);
  const request = buildCombinedPanelRequest(
    input.panel,
    input.dimensions,
    {
      user1Persona: input.user1Persona,
      user2Persona: input.user2Persona,
      turnsA: shownAsA.turns,
      turnsB: shownAsB.turns,
    },
    { ...deps.options, maxOutputTokens: deps.options.maxOutputTokens * names.length },
  );
  try {
    const { value } = await completeStructured(
      deps.backend,
      request,
      combinedPanelReplySchema(names),
      combinedPanelSchemaName(input.panel),
    );
    return readPanelReply(value, names, shownAsA.index, shownAsB.index);
  } catch (error) {
    if (error instanceof StructuredOutputError) return unusablePanelReply(names, error.message);
    throw error;
  }
}
