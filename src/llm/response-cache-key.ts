import { createHash } from 'node:crypto';
import type { CompletionRequest } from './llm-backend.ts';

/**
 * The cache key of one sample of a request: sha256 of the model, the messages, every sampling
 * parameter, the response schema and the sample index, so N samples stay N distinct entries.
 */
export function responseCacheKey(model: string, request: CompletionRequest, sampleIndex: number): string {
  return responseCacheKeys(model, request, sampleIndex + 1)[sampleIndex];
}

/**
 * The keys of samples 0..samples-1 of one request (`responseCacheKey` of each), serialising the
 * request once: the key material is `JSON.stringify([model, messages, temperature, topP, topK,
 * maxOutputTokens, seed, jsonSchema, sampleIndex])`, built from one shared prefix.
 */
export function responseCacheKeys(model: string, request: CompletionRequest, samples: number): string[] {
  const withoutIndex = JSON.stringify([
    model,
    request.messages,
    request.temperature ?? null,
    request.topP ?? null,
    request.topK ?? null,
    request.maxOutputTokens ?? null,
    request.seed ?? null,
    request.jsonSchema ?? null,
  ]);
  const prefix = `${withoutIndex.slice(0, -1)},`;
  const keys: string[] = [];
  for (let index = 0; index < samples; index++) {
    keys.push(createHash('sha256').update(prefix).update(`${index}]`).digest('hex'));
  }
  return keys;
}
