import type { CompletionRequest, LlmBackend } from './llm-backend.ts';
import { estimateTokens } from './estimate-tokens.ts';

/** The optional context members of a backend, for decorators to pass through unchanged. */
export function contextCapabilityOf(
  backend: LlmBackend,
): Pick<LlmBackend, 'contextTokens' | 'contextSource' | 'countPromptTokens'> {
  const count = backend.countPromptTokens;
  if (backend.contextTokens === undefined || count === undefined) return {};
  return {
    contextTokens: backend.contextTokens,
    ...(backend.contextSource && { contextSource: backend.contextSource }),
    countPromptTokens: (request) => count.call(backend, request),
  };
}

/**
 * Rough prompt size of a request for backends without a tokenizer: the project's estimate
 * (`estimateTokens`, ~4 characters per token) of every message plus 4 tokens of chat framing each,
 * and the JSON schema when one is asked for.
 */
export function estimatePromptTokens(request: CompletionRequest): number {
  let tokens = 0;
  for (const message of request.messages) tokens += estimateTokens(message.content) + 4;
  if (request.jsonSchema) tokens += estimateTokens(JSON.stringify(request.jsonSchema.schema));
  return tokens;
}

/**
 * Gives an endpoint backend a context length, set with `llm.context_length` (`source: 'config'`)
 * or published by its `/models` entry (`'endpoint'`), counted with `estimatePromptTokens`. A
 * backend that already knows its context (the local model, or one given `llm.context_length`
 * before the endpoint was asked) is returned unchanged: the first length given wins.
 */
export function withContextLength(
  backend: LlmBackend,
  contextTokens: number | undefined,
  source: 'config' | 'endpoint' = 'config',
): LlmBackend {
  if (contextTokens === undefined || backend.contextTokens !== undefined) return backend;
  if (!Number.isInteger(contextTokens) || contextTokens < 1) {
    throw new RangeError(`Expected \`contextTokens\` to be a positive integer, got ${contextTokens}.`);
  }
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    complete: (request) => backend.complete(request),
    contextTokens,
    contextSource: source,
    countPromptTokens: estimatePromptTokens,
    dispose: () => backend.dispose(),
  };
}

/**
 * How an error names a context, e.g. `the model's context of 2048 tokens` or `the context of 2048
 * tokens that the endpoint's GET /models entry publishes`.
 */
export function describeContext(contextTokens: number, source: LlmBackend['contextSource']): string {
  if (source === 'endpoint')
    return `the context of ${contextTokens} tokens that the endpoint's GET /models entry publishes`;
  if (source === 'config') return `the context of ${contextTokens} tokens set by llm.context_length`;
  return `the model's context of ${contextTokens} tokens`;
}

/** The fix that gives a prompt of `neededTokens` (prompt + reply) room, worded for where the context came from. */
export function largerContextFix(neededTokens: number, source: LlmBackend['contextSource']): string {
  if (source === 'endpoint')
    return `a model with a context of at least ${neededTokens} tokens (or llm.context_length: ${neededTokens} if the endpoint's model holds that many and its published value is wrong)`;
  if (source === 'config')
    return `llm.context_length: ${neededTokens} or more, if the endpoint's model holds that many tokens`;
  return `a context of at least ${neededTokens} tokens (llm.context_size on the local model, if the model's training context allows; a model with a larger context otherwise)`;
}
