import { readFile } from 'node:fs/promises';
import type { ChatMessage, LlmBackend } from '../llm/llm-backend.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import { ContradictionCheckReplySchema } from '../schemas/contradiction-check.ts';
import { renderPersona } from '../util/render-persona.ts';

/** Sampling settings of the contradiction check (the critic role's settings). */
export interface LlmContradictionCheckOptions {
  /** Critic temperature; 0 for repeatable verdicts. Config `llm.critic_temperature`. */
  temperature: number;
  /** Maximum output tokens of one verdict. Config `llm.critic_max_output_tokens`. */
  maxOutputTokens: number;
  /** Sampling seed, for endpoints that honour it. */
  seed: number;
  /** Prompt template with `{{profile}}` and `{{candidate}}`; default: `contradiction-check-prompt.md`. */
  template?: string;
  /**
   * Called when a reply stayed unusable through the repair and the retry policy's re-asks; the
   * candidate is then treated as contradicting (rejected), so planning goes on. Count it here.
   */
  onUnusableReply?: (error: StructuredOutputError) => void;
}

/** The `checkContradiction` dependency of `buildSimpleProfiles`. */
export type ContradictionCheck = (profile: string[], candidate: string) => Promise<boolean>;

const DEFAULT_TEMPLATE_URL = new URL('./contradiction-check-prompt.md', import.meta.url);

/**
 * A contradiction check that asks the critic model (schema name `contradiction_check`) whether a
 * candidate attribute contradicts any attribute of the profile, in either direction.
 * A reply that stays unusable (`StructuredOutputError`, after the repair and the retry policy's
 * re-asks) rejects the candidate, as a contradiction would, and is reported to `onUnusableReply`:
 * an unchecked attribute never enters a profile and a bad reply never ends the run. Other errors
 * of the LLM call (`LlmError`: the stack's retries are used up, or the endpoint is unreachable)
 * propagate to the caller.
 */
export function createLlmContradictionCheck(
  backend: LlmBackend,
  options: LlmContradictionCheckOptions,
): ContradictionCheck {
  let template: Promise<string> | undefined;
  const loadTemplate = (): Promise<string> =>
    (template ??=
      options.template !== undefined ? Promise.resolve(options.template) : readFile(DEFAULT_TEMPLATE_URL, 'utf8'));

  return async (profile, candidate) => {
    const messages = buildContradictionCheckMessages(await loadTemplate(), profile, candidate);
    try {
      const { value } = await completeStructured(
        backend,
        {
          role: 'critic',
          messages,
          temperature: options.temperature,
          maxOutputTokens: options.maxOutputTokens,
          seed: options.seed,
        },
        ContradictionCheckReplySchema,
        'contradiction_check',
      );
      return value.contradicts;
    } catch (error) {
      if (!(error instanceof StructuredOutputError)) throw error;
      options.onUnusableReply?.(error);
      return true;
    }
  };
}

/**
 * The prompt of one check: the template with `{{profile}}` rendered as "- attribute" lines and
 * `{{candidate}}` as the candidate sentence, sent as one user message.
 */
export function buildContradictionCheckMessages(
  template: string,
  profile: readonly string[],
  candidate: string,
): ChatMessage[] {
  const values: Record<string, string> = { profile: renderPersona(profile), candidate: candidate.trim() };
  const content = template.replace(/\{\{(profile|candidate)\}\}/g, (_, name: string) => values[name]);
  return [{ role: 'user', content }];
}
