import type { ChatMessage, LlmBackend } from '../llm/llm-backend.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { EntailmentReplySchema, NegationReplySchema } from '../schemas/persona-expansion.ts';
import { renderPersona } from '../util/render-persona.ts';
import type { ProfileCheck } from './build-consistent-profiles.ts';

export interface LlmNegationCheckOptions {
  /** Critic temperature; 0 for repeatable verdicts. */
  temperature: number;
  maxOutputTokens: number;
  seed?: number;
}

/**
 * The paper's negation step with the LLM in the role of the NLI model: negate the candidate and
 * every held attribute (schema `attribute_negation`, cached per sentence), then reject the
 * candidate when the profile entails the candidate's negation, or the candidate entails the
 * negation of a held attribute (schema `entailment_check`). Two entailment calls per candidate.
 */
export function createLlmNegationCheck(backend: LlmBackend, options: LlmNegationCheckOptions): ProfileCheck {
  const negations = new Map<string, Promise<string>>();
  const ask = async <T>(messages: ChatMessage[], schema: import('zod').ZodType<T>, name: string): Promise<T> =>
    (
      await completeStructured(
        backend,
        {
          role: 'critic',
          messages,
          temperature: options.temperature,
          maxOutputTokens: options.maxOutputTokens,
          seed: options.seed,
        },
        schema,
        name,
      )
    ).value;
  const negate = (sentence: string): Promise<string> => {
    let negation = negations.get(sentence);
    if (!negation) {
      negation = ask(buildNegationMessages(sentence), NegationReplySchema, 'attribute_negation').then(
        (reply) => reply.negation,
      );
      negations.set(sentence, negation);
      negation.catch(() => negations.delete(sentence));
    }
    return negation;
  };
  return async (profile, candidate) => {
    const candidateNegation = await negate(candidate);
    const forward = await ask(
      buildEntailmentMessages(profile, [candidateNegation]),
      EntailmentReplySchema,
      'entailment_check',
    );
    if (forward.entails) return true;
    const heldNegations = await Promise.all(profile.map(negate));
    const backward = await ask(
      buildEntailmentMessages([candidate], heldNegations),
      EntailmentReplySchema,
      'entailment_check',
    );
    return backward.entails;
  };
}

/** Asks for the negation of one first-person statement. */
export function buildNegationMessages(sentence: string): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        'Negate this first-person statement: write the statement that is true exactly when it is false.',
        '',
        `<statement>${sentence.trim()}</statement>`,
        '',
        'Example: "I have two dogs." -> "I do not have two dogs."',
        'Reply with one JSON object and nothing else: {"negation": "<the negated statement>"}',
      ].join('\n'),
    },
  ];
}

/** Asks whether the premise statements (about one person) entail at least one hypothesis. */
export function buildEntailmentMessages(premises: readonly string[], hypotheses: readonly string[]): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        'Statements about one person:',
        '<premise>',
        renderPersona(premises),
        '</premise>',
        '',
        'Hypotheses about the same person:',
        '<hypothesis>',
        renderPersona(hypotheses),
        '</hypothesis>',
        '',
        'Does the premise make at least one hypothesis (almost) certainly true? Unrelated or merely compatible is not entailment.',
        'Reply with one JSON object and nothing else: {"rationale": "<one sentence>", "entails": <true or false>}',
      ].join('\n'),
    },
  ];
}
