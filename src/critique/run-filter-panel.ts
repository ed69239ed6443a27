import type { CriticDefinition, FilterVerdict } from '../schemas/critic.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import type { Turn } from '../schemas/turn.ts';
import { filterPanelReplySchema } from '../schemas/filter-panel.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import type { CriticDeps } from './build-critic-request.ts';
import { buildFilterPanelRequest, filterPanelSchemaName } from './filter-panel-prompt.ts';

export interface RunFilterPanelInput {
  panel: CombinedPanel;
  /** The filter critics, in order: each one's verdict field is answered. */
  critics: readonly CriticDefinition[];
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  turns: readonly Turn[];
}

/**
 * Asks every filter critic's check about one conversation in one call (`critique.filters:
 * combined`) and returns one verdict per critic, in order, shaped like `runFilterCritic`'s: a
 * critic rejects when its field equals its `reject_when`; the panel's one confidence is each
 * verdict's. A reply still unusable after the repair rejects nothing (every verdict passes with
 * confidence 0 and "filter panel reply unusable: …"); any other `LlmError` propagates.
 */
export async function runFilterPanel(input: RunFilterPanelInput, deps: CriticDeps): Promise<FilterVerdict[]> {
  const request = buildFilterPanelRequest(
    input.panel,
    input.critics,
    { user1Persona: input.user1Persona, user2Persona: input.user2Persona, turns: input.turns },
    // The reply holds a rationale per check.
    { ...deps.options, maxOutputTokens: deps.options.maxOutputTokens * Math.max(1, input.critics.length) },
  );
  const verdict = (critic: CriticDefinition, passed: boolean, confidence: number, rationale: string) =>
    ({ critic: critic.name, kind: 'filter', source: 'llm', passed, confidence, rationale }) satisfies FilterVerdict;
  try {
    const { value } = await completeStructured(
      deps.backend,
      request,
      filterPanelReplySchema(input.critics.map((critic) => critic.verdict.field)),
      filterPanelSchemaName(input.panel),
    );
    return input.critics.map((critic) =>
      verdict(
        critic,
        value[critic.verdict.field] !== critic.verdict.reject_when,
        value.confidence,
        `filter panel: ${value.rationale}`,
      ),
    );
  } catch (error) {
    if (error instanceof StructuredOutputError) {
      return input.critics.map((critic) => verdict(critic, true, 0, `filter panel reply unusable: ${error.message}`));
    }
    throw error;
  }
}
