import type { CompletionRequest, LlmBackend } from '../llm/llm-backend.ts';
import { responseFormatOf } from '../llm/complete-structured.ts';
import { ContradictionCheckReplySchema, contradictionChecksReplySchema } from '../schemas/contradiction-check.ts';
import { buildContradictionCheckMessages } from './create-llm-contradiction-check.ts';
import { buildContradictionBatchMessages } from './build-contradiction-batch-messages.ts';

/** What fitting needs from the backend: the optional context members of `LlmBackend`. */
export type ContradictionCheckContext = Pick<LlmBackend, 'contextTokens' | 'contextSource' | 'countPromptTokens'>;

/** One (profile, candidate) check. */
export interface ContradictionCheckItem {
  profile: readonly string[];
  candidate: string;
}

/** The prompts and limits a contradiction-check call is built from. */
export interface ContradictionCheckPrompts {
  /** Template of a call holding several checks (`{{items}}`). */
  batchTemplate: string;
  /** Template of a call holding one check (`{{profile}}`, `{{candidate}}`). */
  singleTemplate: string;
  /** Reply tokens of one verdict (`llm.critic_max_output_tokens`). */
  maxOutputTokens: number;
}

/**
 * Reply tokens asked for a call of `count` checks: one verdict's budget per two checks (a verdict
 * is a sentence and a boolean), at least one verdict's budget.
 */
export function contradictionBatchOutputTokens(maxOutputTokens: number, count: number): number {
  return maxOutputTokens * Math.max(1, Math.ceil(count / 2));
}

/**
 * The request of one contradiction-check call as `completeStructured` sends it (the JSON schema
 * included, since the local model adds it to the prompt): the one-check prompt for a single check,
 * the batch prompt (schema `contradiction_checks`) for several.
 */
export function contradictionCheckRequest(
  prompts: ContradictionCheckPrompts,
  checks: readonly ContradictionCheckItem[],
): CompletionRequest {
  if (checks.length === 1) {
    const [check] = checks;
    return {
      role: 'critic',
      messages: buildContradictionCheckMessages(prompts.singleTemplate, check.profile, check.candidate),
      maxOutputTokens: prompts.maxOutputTokens,
      jsonSchema: responseFormatOf(ContradictionCheckReplySchema, 'contradiction_check'),
    };
  }
  return {
    role: 'critic',
    messages: buildContradictionBatchMessages(prompts.batchTemplate, checks),
    maxOutputTokens: contradictionBatchOutputTokens(prompts.maxOutputTokens, checks.length),
    jsonSchema: responseFormatOf(contradictionChecksReplySchema(checks.length), 'contradiction_checks'),
  };
}

/** Prompt tokens of a call and whether prompt + its reply room fit the context. */
export interface ContradictionCallSize {
  /** Prompt tokens as the backend counts them; null when it publishes no context size. */
  promptTokens: number | null;
  /** Reply tokens the call asks for. */
  maxOutputTokens: number;
  /** Whether prompt + reply fit (always true without a known context). */
  fits: boolean;
}

/** Measures the call that would ask `checks` together. */
export function measureContradictionCall(
  prompts: ContradictionCheckPrompts,
  checks: readonly ContradictionCheckItem[],
  context: ContradictionCheckContext,
): ContradictionCallSize {
  const request = contradictionCheckRequest(prompts, checks);
  const maxOutputTokens = request.maxOutputTokens ?? prompts.maxOutputTokens;
  if (context.contextTokens === undefined || context.countPromptTokens === undefined) {
    return { promptTokens: null, maxOutputTokens, fits: true };
  }
  const promptTokens = context.countPromptTokens(request);
  return { promptTokens, maxOutputTokens, fits: promptTokens + maxOutputTokens <= context.contextTokens };
}

export interface FittedContradictionBatches<T extends ContradictionCheckItem> {
  /** Checks to ask together, in request order; a batch of one is asked with the one-check prompt. */
  batches: T[][];
  /** Checks whose one-check call alone does not fit the context, with that call's size. */
  overContext: Array<{ check: T; size: ContradictionCallSize }>;
}

/**
 * Groups checks into calls, in order: a check joins the current call while the call holds fewer
 * than `maxBatch` checks and its prompt (as `context.countPromptTokens` counts it) plus its reply
 * room (`contradictionBatchOutputTokens`) still fit `context.contextTokens`; otherwise it starts
 * the next call. So on a small context a batch shrinks, down to one check per call, and a check
 * that does not fit even alone is returned in `overContext` instead of being sent. Without a known
 * context, calls are simply `maxBatch` checks each. Pure apart from counting.
 */
export function fitContradictionBatches<T extends ContradictionCheckItem>(
  checks: readonly T[],
  prompts: ContradictionCheckPrompts,
  context: ContradictionCheckContext,
  maxBatch: number,
): FittedContradictionBatches<T> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(`Expected \`maxBatch\` to be a positive integer, got ${maxBatch}.`);
  }
  const batches: T[][] = [];
  const overContext: FittedContradictionBatches<T>['overContext'] = [];
  let current: T[] = [];
  const close = (): void => {
    if (current.length === 1) {
      const size = measureContradictionCall(prompts, current, context);
      if (!size.fits) {
        overContext.push({ check: current[0], size });
        current = [];
        return;
      }
    }
    if (current.length > 0) batches.push(current);
    current = [];
  };
  for (const check of checks) {
    if (
      current.length > 0 &&
      current.length < maxBatch &&
      measureContradictionCall(prompts, [...current, check], context).fits
    ) {
      current.push(check);
      continue;
    }
    close();
    current = [check];
  }
  close();
  return { batches, overContext };
}
