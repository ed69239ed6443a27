import { ConfigError } from '../errors.ts';
import { describeContext, largerContextFix } from '../llm/with-context-length.ts';
import type { Attribute } from '../schemas/attribute.ts';
import {
  measureContradictionCall,
  type ContradictionCheckContext,
  type ContradictionCheckItem,
  type ContradictionCheckPrompts,
} from './fit-contradiction-batches.ts';

export interface ContradictionCheckFitSettings {
  /** `profiles.attributes_per_profile`: a check holds up to this many minus one attributes plus the candidate. */
  attributesPerProfile: number;
  /** `profiles.contradiction_batch`. */
  maxBatch: number;
}

export interface ContradictionCheckFit {
  /** Context tokens per request; null when the backend publishes none (nothing was checked). */
  contextTokens: number | null;
  /** Prompt tokens of the one-check call for the probe (the longest attributes); null without a context. */
  promptTokens: number | null;
  /** Checks per call that fit when every check is the probe (≤ `maxBatch`); calls with shorter checks hold more. */
  checksPerCallThatFit: number;
}

/** Reply tokens below which a verdict (a sentence and a boolean) is not worth suggesting. */
const MIN_USEFUL_VERDICT_TOKENS = 64;

/**
 * Checked before a run's first LLM call: the contradiction check of profile planning, asked one
 * check per call for a probe made of the longest seed attributes (a full profile of distinct
 * categories less one, and the longest candidate of another category), must fit the backend's
 * context with its reply room (`prompts.maxOutputTokens`); otherwise a `ConfigError` (exit 2) names
 * the context size and the settings that would fit. Also reports how many such checks fit in one
 * call, so the caller can say that batches will be smaller than `maxBatch`.
 */
export function checkContradictionCheckFits(
  prompts: ContradictionCheckPrompts,
  settings: ContradictionCheckFitSettings,
  context: ContradictionCheckContext,
  attributes: readonly Attribute[],
): ContradictionCheckFit {
  const probe = longestCheck(attributes, settings.attributesPerProfile);
  const contextTokens = context.contextTokens;
  if (contextTokens === undefined || context.countPromptTokens === undefined || probe === undefined) {
    return { contextTokens: null, promptTokens: null, checksPerCallThatFit: settings.maxBatch };
  }
  const alone = measureContradictionCall(prompts, [probe], context);
  const promptTokens = alone.promptTokens ?? 0;
  if (!alone.fits) {
    const room = contextTokens - promptTokens;
    const fixes = [
      ...(room >= MIN_USEFUL_VERDICT_TOKENS ? [`llm.critic_max_output_tokens: ${room} or less`] : []),
      largerContextFix(promptTokens + prompts.maxOutputTokens, context.contextSource),
      'profiles.contradiction_check: false (profiles are then not checked for contradictions)',
    ];
    throw new ConfigError(
      `The contradiction check of profile planning does not fit ${describeContext(contextTokens, context.contextSource)} even with one check per call: ` +
        `${promptTokens} prompt tokens for the longest seed attributes + ${prompts.maxOutputTokens} reply tokens (llm.critic_max_output_tokens). Settings that would fit:`,
      fixes,
    );
  }
  let checksPerCallThatFit = 1;
  while (
    checksPerCallThatFit < settings.maxBatch &&
    measureContradictionCall(
      prompts,
      Array.from({ length: checksPerCallThatFit + 1 }, () => probe),
      context,
    ).fits
  ) {
    checksPerCallThatFit++;
  }
  return { contextTokens, promptTokens, checksPerCallThatFit };
}

/**
 * The largest check planning can ask: the longest attributes of distinct categories, all but the
 * last as the profile and the last as the candidate; undefined when no check is ever asked
 * (a profile of one attribute, or fewer than two categories).
 */
function longestCheck(
  attributes: readonly Attribute[],
  attributesPerProfile: number,
): ContradictionCheckItem | undefined {
  const picked: Attribute[] = [];
  const categories = new Set<string>();
  for (const attribute of [...attributes].sort((left, right) => right.text.length - left.text.length)) {
    if (picked.length === attributesPerProfile) break;
    if (categories.has(attribute.category)) continue;
    categories.add(attribute.category);
    picked.push(attribute);
  }
  if (picked.length < 2) return undefined;
  return { profile: picked.slice(0, -1).map((attribute) => attribute.text), candidate: picked[picked.length - 1].text };
}
