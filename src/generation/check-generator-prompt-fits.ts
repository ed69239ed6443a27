import { ConfigError } from '../errors.ts';
import type { PoolRecord } from '../schemas/conversation.ts';
import type { Pair } from '../schemas/pair.ts';
import { describeContext, estimatePromptTokens, largerContextFix } from '../llm/with-context-length.ts';
import { buildGeneratorPrompt } from './build-generator-prompt.ts';
import { fitGeneratorPrompt, type PromptContext } from './fit-generator-prompt.ts';
import type { PromptTemplate } from '../schemas/prompt-template.ts';

export interface GeneratorPromptSettings {
  /** `generation.few_shot`. */
  fewShot: number;
  /** `llm.max_output_tokens`. */
  maxOutputTokens: number;
  targetMinTurns: number;
  targetMaxTurns: number;
}

export interface GeneratorPromptCheck {
  /** Context tokens per request; null when the backend publishes none (nothing was checked). */
  contextTokens: number | null;
  /** Prompt tokens with no example, for the probe pair. */
  zeroShotPromptTokens: number | null;
  /** Few-shot examples that fit for the probe pair with the pool's largest examples (≤ `fewShot`). */
  fewShotThatFit: number;
  /**
   * Prompt tokens of the probe pair with those examples: the model's count, or the project's
   * estimate (`estimatePromptTokens`) when the backend has no tokenizer. For projections.
   */
  promptTokens: number;
}

/** Room a reply needs at the least for a conversation of a few turns; suggested settings never go below it. */
const MIN_USEFUL_OUTPUT_TOKENS = 256;

/**
 * Checked before a run's first LLM call: the generator prompt for a probe pair (the profiles of
 * the pool record with the longest ones) must fit the backend's context with no few-shot example
 * and `maxOutputTokens` of room; otherwise a `ConfigError` (exit 2) names the context size and
 * the settings that would fit. Also reports how many examples fit when the pool's largest ones
 * are shown, so the caller can say that prompts will be trimmed.
 */
export function checkGeneratorPromptFits(
  template: PromptTemplate,
  settings: GeneratorPromptSettings,
  context: PromptContext,
  pool: readonly PoolRecord[],
): GeneratorPromptCheck {
  const size = (record: PoolRecord) => [...record.user1_persona, ...record.user2_persona].join('\n').length;
  const bySize = [...pool].sort((left, right) => size(right) - size(left));
  const longest = bySize[0];
  if (context.contextTokens === undefined || context.countPromptTokens === undefined || longest === undefined) {
    const estimate = longest
      ? estimatePromptTokens({
          role: 'generator',
          messages: buildGeneratorPrompt(template, {
            pair: {
              id: 'estimate',
              user1: { id: 'estimate-1', attributes: longest.user1_persona },
              user2: { id: 'estimate-2', attributes: longest.user2_persona },
            },
            examples: pool.slice(0, settings.fewShot),
            targetMinTurns: settings.targetMinTurns,
            targetMaxTurns: settings.targetMaxTurns,
          }),
        })
      : 0;
    return {
      contextTokens: null,
      zeroShotPromptTokens: null,
      fewShotThatFit: settings.fewShot,
      promptTokens: estimate,
    };
  }
  const pair: Pair = {
    id: 'context-check',
    user1: { id: 'context-check-1', attributes: longest.user1_persona },
    user2: { id: 'context-check-2', attributes: longest.user2_persona },
  };
  const conversationSize = (record: PoolRecord) => record.turns.reduce((sum, turn) => sum + turn.text.length, 0);
  const largestExamples = [...pool]
    .sort((left, right) => conversationSize(right) - conversationSize(left))
    .slice(0, settings.fewShot);
  const input = {
    pair,
    targetMinTurns: settings.targetMinTurns,
    targetMaxTurns: settings.targetMaxTurns,
  };
  const fitted = fitGeneratorPrompt(
    template,
    { ...input, examples: largestExamples },
    context,
    settings.maxOutputTokens,
  );
  const zeroShot = fitGeneratorPrompt(template, { ...input, examples: [] }, context, settings.maxOutputTokens);
  const contextTokens = context.contextTokens;
  const zeroShotPromptTokens = zeroShot.promptTokens ?? 0;
  if (!zeroShot.fits) {
    const room = contextTokens - zeroShotPromptTokens;
    const fixes = [
      ...(room >= MIN_USEFUL_OUTPUT_TOKENS ? [`llm.max_output_tokens: ${room} or less`] : []),
      largerContextFix(zeroShotPromptTokens + settings.maxOutputTokens, context.contextSource),
      'a shorter prompt template (generation.template)',
    ];
    throw new ConfigError(
      `The generator prompt does not fit ${describeContext(contextTokens, context.contextSource)} even with no few-shot example: ` +
        `${zeroShotPromptTokens} prompt tokens + ${settings.maxOutputTokens} reply tokens (llm.max_output_tokens). Settings that would fit:`,
      fixes,
    );
  }
  return {
    contextTokens,
    zeroShotPromptTokens,
    fewShotThatFit: fitted.examples.length,
    promptTokens: fitted.promptTokens ?? 0,
  };
}
