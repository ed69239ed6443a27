import { hash } from 'node:crypto';
import type { CompletionRequest, JsonResponseFormat } from './llm-backend.ts';

/** Bumped whenever the key material changes: entries under older keys are simply never hit. */
const KEY_VERSION = 'pf-cache-v2';

/** JSON of each response format object seen (critics reuse one object per schema). */
const formatJson = new WeakMap<JsonResponseFormat, string>();

/**
 * The cache key of one sample of a request: sha256 of the model, every message (role and
 * content), every sampling parameter, the response schema and the sample index, so N samples stay
 * N distinct entries.
 */
export function responseCacheKey(model: string, request: CompletionRequest, sampleIndex: number): string {
  return responseCacheKeys(model, request, sampleIndex + 1)[sampleIndex];
}

/**
 * The keys of samples 0..samples-1 of one request (`responseCacheKey` of each). The request is
 * hashed once, as length-prefixed fields (no JSON escaping of the long message texts: that was
 * the largest single cost of the cache), then each key is sha256 of that digest and the index.
 */
export function responseCacheKeys(model: string, request: CompletionRequest, samples: number): string[] {
  const fields: string[] = [
    KEY_VERSION,
    model,
    String(request.messages.length),
    ...request.messages.flatMap((message) => [message.role, message.content]),
    String(request.temperature ?? ''),
    String(request.topP ?? ''),
    String(request.topK ?? ''),
    String(request.maxOutputTokens ?? ''),
    String(request.seed ?? ''),
    request.jsonSchema ? jsonOf(request.jsonSchema) : '',
  ];
  let material = '';
  for (const field of fields) material += `${field.length}:${field}`;
  const requestDigest = hash('sha256', material);
  const keys: string[] = [];
  for (let index = 0; index < samples; index++) keys.push(hash('sha256', `${requestDigest}#${index}`));
  return keys;
}

function jsonOf(format: JsonResponseFormat): string {
  let json = formatJson.get(format);
  if (json === undefined) {
    json = JSON.stringify(format);
    formatJson.set(format, json);
  }
  return json;
}
