import { createHash } from 'node:crypto';
import type { CompletionRequest } from './llm-backend.ts';

/**
 * The cache key of one sample of a request: sha256 of the model, the messages, every sampling
 * parameter, the response schema and the sample index, so N samples stay N distinct entries.
 */
export function responseCacheKey(model: string, request: CompletionRequest, sampleIndex: number): string {
  const material = JSON.stringify([
    model,
    request.messages,
    request.temperature ?? null,
    request.topP ?? null,
    request.topK ?? null,
    request.maxOutputTokens ?? null,
    request.seed ?? null,
    request.jsonSchema ?? null,
    sampleIndex,
  ]);
  return createHash('sha256').update(material).digest('hex');
}
