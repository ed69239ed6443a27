import type { ChatMessage, LlmBackend } from '../llm/llm-backend.ts';
import type { PoolRecord } from '../schemas/conversation.ts';
import { buildGeneratorPrompt, type GeneratorPromptInput } from './build-generator-prompt.ts';
import type { PromptTemplate } from '../schemas/prompt-template.ts';

/** What fitting needs from the backend: the optional context members of `LlmBackend`. */
export type PromptContext = Pick<LlmBackend, 'contextTokens' | 'contextSource' | 'countPromptTokens'>;

export interface FittedGeneratorPrompt {
  messages: ChatMessage[];
  /** The few-shot examples actually shown, in the order shown. */
  examples: PoolRecord[];
  /** Prompt tokens as the backend counts them; null when the backend publishes no context size. */
  promptTokens: number | null;
  /** Whether prompt + `maxOutputTokens` fit the context (always true without a known context). */
  fits: boolean;
}

/**
 * Builds the generator prompt with as many of `input.examples` as fit: while prompt tokens plus
 * `maxOutputTokens` exceed `context.contextTokens` (the backend's), the lowest-ranked example is dropped
 * (lowest pool score; among equal scores the one shown last), the others keep their order.
 * Backends without `contextTokens`/`countPromptTokens` get every example. With no example left
 * and still too long, the zero-shot prompt is returned with `fits: false`. Pure apart from counting.
 */
export function fitGeneratorPrompt(
  template: PromptTemplate,
  input: GeneratorPromptInput,
  context: PromptContext,
  maxOutputTokens: number,
): FittedGeneratorPrompt {
  let examples = [...input.examples];
  const limit = context.contextTokens;
  for (;;) {
    const messages = buildGeneratorPrompt(template, { ...input, examples });
    if (limit === undefined || context.countPromptTokens === undefined)
      return { messages, examples, promptTokens: null, fits: true };
    const promptTokens = context.countPromptTokens({ role: 'generator', messages, maxOutputTokens });
    const fits = promptTokens + maxOutputTokens <= limit;
    if (fits || examples.length === 0) return { messages, examples, promptTokens, fits };
    examples = withoutLowestRanked(examples);
  }
}

function withoutLowestRanked(examples: readonly PoolRecord[]): PoolRecord[] {
  let lowest = 0;
  examples.forEach((example, index) => {
    if (example.score <= examples[lowest].score) lowest = index;
  });
  return examples.filter((_example, index) => index !== lowest);
}
