import { createHash, hash } from 'node:crypto';
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
 * hashed once, as length-prefixed fields `<length>:<text>` (no JSON escaping of the long message
 * texts: that was the largest single cost of the cache), then each key is sha256 of that digest
 * and the index.
 */
export function responseCacheKeys(model: string, request: CompletionRequest, samples: number): string[] {
  // The fields are streamed into the hash, each message text as it is, rather than first joined
  // into one string: that copy of every prompt was most of what a cached call allocated.
  const hasher = createHash('sha256').update(
    field(KEY_VERSION) + field(model) + field(String(request.messages.length)),
  );
  for (const message of request.messages) {
    hasher.update(`${field(message.role)}${message.content.length}:`);
    hasher.update(message.content);
  }
  hasher.update(
    field(String(request.temperature ?? '')) +
      field(String(request.topP ?? '')) +
      field(String(request.topK ?? '')) +
      field(String(request.maxOutputTokens ?? '')) +
      field(String(request.seed ?? '')) +
      field(request.jsonSchema ? jsonOf(request.jsonSchema) : ''),
  );
  const requestDigest = hasher.digest('hex');
  const keys: string[] = [];
  for (let index = 0; index < samples; index++) keys.push(hash('sha256', `${requestDigest}#${index}`));
  return keys;
}

/** One field of the key material: its length in UTF-16 code units, a colon, the text. */
function field(text: string): string {
  return `${text.length}:${text}`;
}

function jsonOf(format: JsonResponseFormat): string {
  let json = formatJson.get(format);
  if (json === undefined) {
    json = JSON.stringify(format);
    formatJson.set(format, json);
  }
  return json;
}
