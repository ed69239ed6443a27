import type { CompletionRequest, LlmBackend } from './llm-backend.ts';
import { estimateTokens } from './estimate-tokens.ts';

/** The optional context members of a backend, for decorators to pass through unchanged. */
export function contextCapabilityOf(backend: LlmBackend): Pick<LlmBackend, 'contextTokens' | 'countPromptTokens'> {
  const count = backend.countPromptTokens;
  if (backend.contextTokens === undefined || count === undefined) return {};
  return { contextTokens: backend.contextTokens, countPromptTokens: (request) => count.call(backend, request) };
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
 * Gives an endpoint backend a context length (published by its `/models` entry or set with
 * `llm.context_length`), counted with `estimatePromptTokens`. A backend that already knows its
 * context (the local model) is returned unchanged.
 */
export function withContextLength(backend: LlmBackend, contextTokens: number | undefined): LlmBackend {
  if (contextTokens === undefined || backend.contextTokens !== undefined) return backend;
  if (!Number.isInteger(contextTokens) || contextTokens < 1) {
    throw new RangeError(`Expected \`contextTokens\` to be a positive integer, got ${contextTokens}.`);
  }
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    complete: (request) => backend.complete(request),
    contextTokens,
    countPromptTokens: estimatePromptTokens,
    dispose: () => backend.dispose(),
  };
}
