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

describe('responseCacheKeys', () => {
  it('gives one stable sha256 key per sample, equal to responseCacheKey of each', () => {
    const keys = responseCacheKeys('model-a', request, 3);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(keys).toEqual([0, 1, 2].map((index) => responseCacheKey('model-a', request, index)));
    // Same request content in fresh objects (as after a restart): same keys.
    const copy = JSON.parse(JSON.stringify(request)) as CompletionRequest;
    expect(responseCacheKeys('model-a', copy, 3)).toEqual(keys);
  });

  it('changes with the model, any message, any sampling parameter and the schema', () => {
    const base = responseCacheKey('model-a', request, 0);
    const variants: CompletionRequest[] = [
      { ...request, temperature: 0.4 },
      { ...request, topP: 0.9 },
      { ...request, topK: 40 },
      { ...request, maxOutputTokens: 10 },
      { ...request, seed: 5 },
      { ...request, messages: [request.messages[0]] },
      { ...request, messages: [request.messages[0], { role: 'assistant', content: request.messages[1].content }] },
      { ...request, messages: [request.messages[0], { role: 'user', content: 'Ünïcode\nand a newline!' }] },
      { ...request, jsonSchema: undefined },
      { ...request, jsonSchema: { ...request.jsonSchema!, name: 'critic_other' } },
    ];
    expect(responseCacheKey('model-b', request, 0)).not.toBe(base);
    for (const variant of variants) expect(responseCacheKey('model-a', variant, 0)).not.toBe(base);
  });

  it('cannot be fooled by moving text across message boundaries', () => {
    const split = (first: string, second: string): CompletionRequest => ({
      role: 'critic',
      messages: [
        { role: 'user', content: first },
        { role: 'user', content: second },
      ],
    });
    expect(responseCacheKey('m', split('ab', 'c'), 0)).not.toBe(responseCacheKey('m', split('a', 'bc'), 0));
  });
});
