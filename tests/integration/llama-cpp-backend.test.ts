import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { join } from 'node:path';
import { parseStructured } from '../../src/llm/complete-structured.ts';
import { createLocalBackend } from '../../src/llm/llama/create-local-backend.ts';
import { ContextOverflowError, LlmError } from '../../src/errors.ts';
import { createLlamaCppBackend } from '../../src/llm/llama/create-llama-cpp-backend.ts';
import type { LlamaCppBackend } from '../../src/llm/llama/llama-cpp-backend.ts';
import { defaultLlamaThreads } from '../../src/llm/llama/default-llama-threads.ts';
import { loadNodeLlamaCpp } from '../../src/llm/llama/llama-module.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';
import { ModelUnavailableError } from '../../src/llm/llama/model-unavailable-error.ts';
import { useTinyModel } from '../fixtures/tiny-model.ts';

const tinyModel = useTinyModel();

const VerdictSchema = z.object({
  rationale: z.string(),
  winner: z.enum(['A', 'B']),
  score: z.number().int().min(1).max(5),
  flags: z.array(z.string()),
});

function request(extra: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    role: 'generator',
    messages: [
      { role: 'system', content: 'You are User 1. Write one utterance.' },
      { role: 'user', content: 'User 2: hi, do you have pets?' },
    ],
    temperature: 0.7,
    seed: 11,
    maxOutputTokens: 32,
    ...extra,
  };
}

describe('LlamaCppBackend with the tiny test model', () => {
  let backend: LlamaCppBackend;
  beforeAll(async () => {
    backend = await createLlamaCppBackend({
      modelPath: tinyModel.path,
      threads: 1,
      contextSize: 1024,
      parallelSequences: 2,
    });
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('answers a plain completion with text, named after the model file', async () => {
    const result = await backend.complete(request());
    expect(result.texts).toHaveLength(1);
    expect(result.texts[0].length).toBeGreaterThan(0);
    expect(result.model).toBe('tiny');
    expect(backend.modelFor('critic')).toBe('tiny');
    expect(backend.kind).toBe('llama.cpp');
  });

  it('gives the same text for the same seed and a different one for another seed', async () => {
    const first = await backend.complete(request({ seed: 3 }));
    const again = await backend.complete(request({ seed: 3 }));
    const other = await backend.complete(request({ seed: 4 }));
    expect(again.texts).toEqual(first.texts);
    expect(other.texts).not.toEqual(first.texts);
  });

  it('counts usage with the model tokenizer: every prompt byte is a token, replies stop at maxOutputTokens', async () => {
    const result = await backend.complete(request({ maxOutputTokens: 20 }));
    const promptBytes = Buffer.byteLength('You are User 1. Write one utterance.User 2: hi, do you have pets?');
    // The tiny vocabulary is bytes only; the chat template adds role markers and EOS tokens.
    expect(result.usage.promptTokens).toBeGreaterThan(promptBytes);
    expect(result.usage.promptTokens).toBeLessThan(promptBytes + 60);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(20);
    expect(result.usage.calls).toBe(1);
  });

  it('runs `samples` as separate seeded samples: sample i equals a single request with seed + i', async () => {
    const sampled = await backend.complete(request({ seed: 20, samples: 3 }));
    const single = await Promise.all([20, 21, 22].map((seed) => backend.complete(request({ seed }))));
    expect(sampled.texts).toEqual(single.map((result) => result.texts[0]));
    expect(sampled.usage.calls).toBe(3);
    expect(sampled.usage.promptTokens).toBe(single[0].usage.promptTokens * 3);
    expect(sampled.usage.completionTokens).toBe(single.reduce((sum, result) => sum + result.usage.completionTokens, 0));
  });

  it('returns grammar-constrained JSON that zod accepts in at least 9 of 10 tries', async () => {
    const jsonSchema = {
      name: 'pairwise_test',
      schema: z.toJSONSchema(VerdictSchema, { io: 'input' }) as Record<string, unknown>,
    };
    let valid = 0;
    for (let seed = 0; seed < 10; seed++) {
      const result = await backend.complete(
        request({ role: 'critic', seed, temperature: 0.7, maxOutputTokens: 200, jsonSchema }),
      );
      if (parseStructured(result.texts[0], VerdictSchema).ok) valid++;
    }
    expect(valid).toBeGreaterThanOrEqual(9);
  });

  it('serves requests on parallel sequences; the rest wait and get the same replies as one at a time', async () => {
    const seeds = [30, 31, 32, 33];
    const sequential: string[] = [];
    for (const seed of seeds) sequential.push((await backend.complete(request({ seed }))).texts[0]);

    const pending = seeds.map((seed) => backend.complete(request({ seed })));
    expect(backend.queue).toEqual({ busySequences: 2, waitingSamples: 2 });
    const parallel = await Promise.all(pending);
    expect(parallel.map((result) => result.texts[0])).toEqual(sequential);
    expect(backend.queue).toEqual({ busySequences: 0, waitingSamples: 0 });
  });

  it('rejects a prompt longer than the context with a non-retryable ContextOverflowError', async () => {
    const failure = await backend
      .complete(request({ messages: [{ role: 'user', content: 'x'.repeat(3_000) }] }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ContextOverflowError);
    expect((failure as LlmError).retryable).toBe(false);
    expect((failure as Error).message).toMatch(/context/);
    expect((failure as ContextOverflowError).contextTokens).toBe(backend.contextTokens);
    expect((failure as ContextOverflowError).promptTokens).toBeGreaterThan(backend.contextTokens);
  });

  it('fails a request aborted while waiting for a sequence, and keeps serving the others', async () => {
    const controller = new AbortController();
    const busy = [backend.complete(request({ seed: 40 })), backend.complete(request({ seed: 41 }))];
    const waiting = backend.complete(request({ seed: 42, signal: controller.signal })).catch((error: unknown) => error);
    controller.abort();
    const failure = await waiting;
    expect(failure).toBeInstanceOf(LlmError);
    expect((failure as Error).message).toMatch(/aborted/);
    for (const result of await Promise.all(busy)) expect(result.texts[0].length).toBeGreaterThan(0);
  });
});

describe('LlamaCppBackend lifecycle and failures', () => {
  it('disposes twice without error and refuses requests afterwards', async () => {
    const backend = await createLlamaCppBackend({ modelPath: tinyModel.path, threads: 1, contextSize: 256 });
    await backend.dispose();
    await expect(backend.dispose()).resolves.toBeUndefined();
    await expect(backend.complete(request())).rejects.toThrow(/disposed/);
  });

  it('fails requests still waiting when the backend is disposed', async () => {
    const backend = await createLlamaCppBackend({ modelPath: tinyModel.path, threads: 1, contextSize: 256 });
    const running = backend.complete(request({ maxOutputTokens: 200 })).catch((error: unknown) => error);
    const waiting = backend.complete(request()).catch((error: unknown) => error);
    await backend.dispose();
    const outcome = await waiting;
    expect(outcome).toBeInstanceOf(LlmError);
    expect((outcome as Error).message).toMatch(/disposed/);
    await running;
  });

  it('names a missing model file in a non-retryable LlmError', async () => {
    const missing = join(tinyModel.dir, 'nope.gguf');
    const failure = await createLlamaCppBackend({ modelPath: missing, threads: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmError);
    expect((failure as LlmError).retryable).toBe(false);
    expect((failure as Error).message).toContain(missing);
  });

  it('reports a file that is not a GGUF model as an LlmError', async () => {
    const failure = await createLlamaCppBackend({
      modelPath: join(import.meta.dirname, 'llama-cpp-backend.test.ts'),
      threads: 1,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmError);
    expect((failure as Error).message).toMatch(/Could not load the model/);
  });

  it('createLocalBackend with a missing --model-path gives ModelUnavailableError with the ways forward', async () => {
    const failure = await createLocalBackend({
      modelPath: join(tinyModel.dir, 'missing.gguf'),
      cacheDir: tinyModel.dir,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect((failure as Error).message).toMatch(/--model-path/);
    expect((failure as Error).message).toMatch(/--base-url/);
  });

  it('createLocalBackend loads a model given by path', async () => {
    const backend = await createLocalBackend({
      modelPath: tinyModel.path,
      cacheDir: tinyModel.dir,
      threads: 1,
      contextSize: 256,
    });
    try {
      expect((await backend.complete(request({ maxOutputTokens: 4 }))).texts).toHaveLength(1);
    } finally {
      await backend.dispose();
    }
  });

  it('explains a missing node-llama-cpp package', async () => {
    const failure = await loadNodeLlamaCpp(() =>
      Promise.reject(new Error("Cannot find package 'node-llama-cpp'")),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmError);
    expect((failure as Error).message).toMatch(/npm install node-llama-cpp/);
    expect((failure as Error).message).toMatch(/--base-url/);
  });

  it('defaults to the idle logical CPUs, at least one thread and at most 8', () => {
    expect(defaultLlamaThreads(1, 0)).toBe(1);
    expect(defaultLlamaThreads(2, 0.2)).toBe(2);
    expect(defaultLlamaThreads(2, 1.2)).toBe(1);
    expect(defaultLlamaThreads(2, 16)).toBe(1);
    expect(defaultLlamaThreads(16, 0)).toBe(8);
    expect(defaultLlamaThreads(16, 12)).toBe(4);
  });
});

describe('LlamaCppBackend prefix reuse (tiny test model)', () => {
  let backend: LlamaCppBackend;
  const rubric = 'You judge conversations between two users for one quality only. '.repeat(12);
  const critic = (text: string): CompletionRequest => ({
    role: 'critic',
    messages: [
      { role: 'system', content: rubric },
      { role: 'user', content: text },
    ],
    maxOutputTokens: 8,
  });
  beforeAll(async () => {
    backend = await createLlamaCppBackend({
      modelPath: tinyModel.path,
      threads: 1,
      contextSize: 2048,
      parallelSequences: 4,
    });
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('evaluates the prompt of N samples once and counts its tokens with the model tokenizer', async () => {
    const generation = request({ samples: 4, maxOutputTokens: 16 });
    const promptTokens = backend.countPromptTokens(generation);
    const result = await backend.complete(generation);
    expect(result.texts).toHaveLength(4);
    expect(result.usage.promptTokens).toBe(4 * promptTokens);
    // One sequence evaluates the prompt; the three others copy its KV cache.
    expect(result.usage.evaluatedPromptTokens).toBeLessThanOrEqual(promptTokens + 4);
    expect(result.usage.evaluatedPromptTokens).toBeGreaterThanOrEqual(promptTokens - 4);
    expect(backend.contextTokens).toBe(2048);
  });

  it('gives parallel calls that share a rubric the prefix one of them evaluated', async () => {
    const requests = ['User 1: I keep bees.', 'User 1: I race pigeons.', 'User 1: I knit socks.'].map(critic);
    const results = await Promise.all(requests.map((item) => backend.complete(item)));
    const sent = results.reduce((sum, result) => sum + result.usage.promptTokens, 0);
    const evaluated = results.reduce((sum, result) => sum + (result.usage.evaluatedPromptTokens ?? 0), 0);
    const shared = backend.countPromptTokens(critic(''));
    expect(sent).toBeGreaterThan(3 * shared);
    // The rubric is evaluated once, not three times.
    expect(evaluated).toBeLessThan(sent - 1.5 * shared);
    const later = await backend.complete(critic('User 1: I collect stamps.'));
    expect(later.usage.evaluatedPromptTokens).toBeLessThan(later.usage.promptTokens / 4);
  });

  it('replies to shared-prefix samples the same way as to a prompt evaluated alone', async () => {
    const alone = await backend.complete(request({ seed: 5, maxOutputTokens: 16, temperature: 0 }));
    const together = await backend.complete(request({ seed: 5, maxOutputTokens: 16, temperature: 0, samples: 3 }));
    expect(together.texts).toEqual([alone.texts[0], alone.texts[0], alone.texts[0]]);
  });
});
