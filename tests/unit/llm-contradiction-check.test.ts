import { describe, expect, it } from 'vitest';
import { createLlmContradictionCheck } from '../../src/personas/create-llm-contradiction-check.ts';
import { DEFAULT_RETRY_POLICY } from '../../src/llm/retry-policy.ts';
import { LlmError, type StructuredOutputError } from '../../src/errors.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';

/** A test double of the port: answers every request with `reply` (or throws it) and records the requests. */
function scriptedBackend(reply: string | Error): LlmBackend & { requests: CompletionRequest[] } {
  const requests: CompletionRequest[] = [];
  return {
    kind: 'scripted',
    requests,
    modelFor: () => 'scripted',
    async complete(request): Promise<CompletionResult> {
      requests.push(request);
      if (reply instanceof Error) throw reply;
      return { texts: [reply], model: 'scripted', usage: { promptTokens: 1, completionTokens: 1, calls: 1 } };
    },
    dispose: async () => {},
  };
}

const options = {
  temperature: 0,
  maxOutputTokens: 50,
  seed: 1,
  template: 'Profile:\n{{profile}}\nCandidate: {{candidate}}',
};

describe('createLlmContradictionCheck', () => {
  it('rejects the candidate and reports it when the reply stays unusable, instead of ending planning', async () => {
    const backend = scriptedBackend('{"contradicts": tr');
    const unusable: StructuredOutputError[] = [];
    const check = createLlmContradictionCheck(backend, {
      ...options,
      onUnusableReply: (error) => unusable.push(error),
    });
    await expect(check(['I love dogs.'], 'I ski.')).resolves.toBe(true);
    expect(unusable).toHaveLength(1);
    expect(unusable[0].rawText).toBe('{"contradicts": tr');
    // Ask + repair, then the retry policy's re-asks, each with its repair.
    expect(backend.requests).toHaveLength(2 * (1 + DEFAULT_RETRY_POLICY.invalidJsonRetries));
  });

  it('passes other LLM errors on (the stack already retried them)', async () => {
    const check = createLlmContradictionCheck(
      scriptedBackend(new LlmError('endpoint answered 500', { status: 500, retryable: true })),
      options,
    );
    await expect(check(['I love dogs.'], 'I ski.')).rejects.toThrow('endpoint answered 500');
  });

  it('returns the verdict of a usable reply', async () => {
    const check = createLlmContradictionCheck(scriptedBackend('{"contradicts": false, "rationale": "fine"}'), options);
    await expect(check(['I love dogs.'], 'I ski.')).resolves.toBe(false);
  });
});
