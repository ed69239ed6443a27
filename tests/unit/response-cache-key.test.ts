import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { responseCacheKey, responseCacheKeys } from '../../src/llm/response-cache-key.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';

const request: CompletionRequest = {
  role: 'critic',
  messages: [
    { role: 'system', content: 'Judge "fairly".' },
    { role: 'user', content: 'Ünïcode\nand a newline' },
  ],
  temperature: 0.3,
  seed: 4,
  jsonSchema: { name: 'critic_toxicity', schema: { type: 'object', properties: { flagged: { type: 'boolean' } } } },
};

/** The documented key material: caches written by earlier versions stay valid only while this holds. */
function documentedKey(sampleIndex: number): string {
  const material = JSON.stringify(['model-a', request.messages, 0.3, null, null, null, 4, request.jsonSchema, sampleIndex]);
  return createHash('sha256').update(material).digest('hex');
}

describe('responseCacheKeys', () => {
  it('hashes the documented material for every sample, serialising the request once', () => {
    expect(responseCacheKeys('model-a', request, 3)).toEqual([documentedKey(0), documentedKey(1), documentedKey(2)]);
    expect(responseCacheKey('model-a', request, 1)).toBe(documentedKey(1));
  });

  it('changes with the model, any message, any sampling parameter and the schema', () => {
    const base = responseCacheKey('model-a', request, 0);
    expect(responseCacheKey('model-b', request, 0)).not.toBe(base);
    expect(responseCacheKey('model-a', { ...request, temperature: 0.4 }, 0)).not.toBe(base);
    expect(responseCacheKey('model-a', { ...request, maxOutputTokens: 10 }, 0)).not.toBe(base);
    expect(responseCacheKey('model-a', { ...request, messages: [request.messages[0]] }, 0)).not.toBe(base);
    expect(responseCacheKey('model-a', { ...request, jsonSchema: undefined }, 0)).not.toBe(base);
  });
});
