import { filterReplySchema, type CriticDefinition, type FilterVerdict } from '../schemas/critic.ts';
import type { Turn } from '../schemas/turn.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import { buildCriticRequest, criticSchemaName, type CriticDeps } from './build-critic-request.ts';

export interface RunFilterCriticInput {
  /** A critic of kind `filter`. */
  critic: CriticDefinition;
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  turns: readonly Turn[];
}

/**
 * Asks one filter critic about one conversation. The candidate is rejected when the reply's verdict
 * field equals the critic's `reject_when`; `confidence` is the critic's own (0..1).
 *
 * A reply still unusable after `completeStructured`'s repair (`StructuredOutputError`) rejects
 * nothing: the verdict passes with confidence 0 and rationale "critic reply unusable: …", so a
 * flaky critic can't silently empty the dataset and the low confidence is visible in the records
 * and in tie-breaks. Any other `LlmError` propagates (the job fails and may be retried).
 */
export async function runFilterCritic(input: RunFilterCriticInput, deps: CriticDeps): Promise<FilterVerdict> {
  const { critic } = input;
  if (critic.kind !== 'filter') throw new Error(`critic "${critic.name}" is not a filter critic`);
  const request = buildCriticRequest(
    critic,
    { kind: 'filter', user1Persona: input.user1Persona, user2Persona: input.user2Persona, turns: input.turns },
    deps.options,
  );
  const verdict = (passed: boolean, confidence: number, rationale: string): FilterVerdict => ({
    critic: critic.name,
    kind: 'filter',
    source: 'llm',
    passed,
    confidence,
    rationale,
  });
  try {
    const { value } = await completeStructured(
      deps.backend,
      request,
      filterReplySchema(critic.verdict.field),
      criticSchemaName(critic),
    );
    const answer = (value as Record<string, unknown>)[critic.verdict.field];
    return verdict(answer !== critic.verdict.reject_when, value.confidence as number, value.rationale as string);
  } catch (error) {
    if (error instanceof StructuredOutputError) {
      return verdict(true, 0, `critic reply unusable: ${error.message}`);
    }
    throw error;
  }
}
