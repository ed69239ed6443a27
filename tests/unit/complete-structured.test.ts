import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_RETRY_POLICY } from '../../src/llm/retry-policy.ts';
import { completeStructured } from '../../src/llm/complete-structured.ts';
import { extractJson } from '../../src/llm/extract-json.ts';
import { StructuredOutputError } from '../../src/errors.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';

/** A test double: replies with scripted texts in order and records every request. */
function scriptedBackend(replies: string[]): LlmBackend & { requests: CompletionRequest[] } {
  const requests: CompletionRequest[] = [];
  return {
    kind: 'scripted',
    requests,
    modelFor: () => 'scripted-model',
    async complete(request): Promise<CompletionResult> {
      requests.push(request);
      const text = replies[requests.length - 1] ?? '';
      return { texts: [text], model: 'scripted-model', usage: { promptTokens: 10, completionTokens: 5, calls: 1 } };
    },
    dispose: async () => {},
  };
}

const VerdictSchema = z.object({ rationale: z.string(), toxic: z.boolean() });
const baseRequest: CompletionRequest = {
  role: 'critic',
  messages: [
    { role: 'system', content: 'You judge conversations.' },
    { role: 'user', content: 'Is this toxic?' },
  ],
};

describe('extractJson', () => {
  it('takes the JSON out of fences and surrounding prose', () => {
    expect(extractJson('```json\n{"a": 1}\n```')).toBe('{"a": 1}');
    expect(extractJson('Sure! Here it is: {"a": {"b": 2}} Hope that helps.')).toBe('{"a": {"b": 2}}');
    expect(extractJson('no json here')).toBe('no json here');
  });
});

describe('completeStructured', () => {
  it('sends the schema by name and returns the validated value', async () => {
    const backend = scriptedBackend(['```json\n{"rationale": "fine", "toxic": false}\n```']);
    const result = await completeStructured(backend, baseRequest, VerdictSchema, 'critic_toxicity');
    expect(result.value).toEqual({ rationale: 'fine', toxic: false });
    expect(result.usage).toEqual({ promptTokens: 10, completionTokens: 5, calls: 1 });
    const sent = backend.requests[0];
    expect(sent.jsonSchema?.name).toBe('critic_toxicity');
    expect(sent.jsonSchema?.schema).toMatchObject({ type: 'object', required: ['rationale', 'toxic'] });
  });

  it('repairs once with the problems listed and sums usage', async () => {
    const backend = scriptedBackend(['{"rationale": "fine"}', '{"rationale": "fine", "toxic": true}']);
    const result = await completeStructured(backend, baseRequest, VerdictSchema, 'critic_toxicity');
    expect(result.value.toxic).toBe(true);
    expect(result.rawText).toBe('{"rationale": "fine", "toxic": true}');
    expect(result.usage).toEqual({ promptTokens: 20, completionTokens: 10, calls: 2 });
    const repairMessages = backend.requests[1].messages;
    expect(repairMessages).toHaveLength(4);
    expect(repairMessages[2]).toEqual({ role: 'assistant', content: '{"rationale": "fine"}' });
    expect(repairMessages[3].role).toBe('user');
    expect(repairMessages[3].content).toContain('toxic');
    expect(repairMessages[3].content).toContain('JSON');
    expect(baseRequest.messages).toHaveLength(2);
  });

  it('asks again (seed moved on, marked as a re-ask) when the repair is unusable too, and succeeds', async () => {
    const backend = scriptedBackend(['not json', 'still {not json', '{"rationale": "ok", "toxic": false}']);
    const result = await completeStructured(backend, { ...baseRequest, seed: 40 }, VerdictSchema, 'critic_toxicity');
    expect(result.value).toEqual({ rationale: 'ok', toxic: false });
    expect(result.usage.calls).toBe(3);
    expect(backend.requests.map((request) => [request.seed, request.reaskOf, request.messages.length])).toEqual([
      [40, undefined, 2],
      [40, undefined, 4],
      [41, 'invalid_json', 2],
    ]);
  });

  it('throws StructuredOutputError with the last raw text once the re-asks are used up', async () => {
    const replies = ['not json', 'still {not json', 'a', 'b', 'c', 'd', 'e', 'last {not json'];
    const backend = scriptedBackend(replies);
    const error = await completeStructured(backend, baseRequest, VerdictSchema, 'critic_toxicity').catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(StructuredOutputError);
    expect(error.message).toContain('critic_toxicity');
    expect(error.rawText).toBe('last {not json');
    expect(error.issues[0]).toContain('not valid JSON');
    expect(error.retryable).toBe(true);
    expect(error.fault).toBe('invalid_json');
    // One ask and one repair, then 3 re-asks (DEFAULT_RETRY_POLICY.invalidJsonRetries) of ask + repair each.
    expect(backend.requests).toHaveLength(2 * (1 + DEFAULT_RETRY_POLICY.invalidJsonRetries));
  });
});
