import { describe, expect, it } from 'vitest';
import { buildLlmStack } from '../../src/llm/build-llm-stack.ts';
import { DEFAULT_RETRY_POLICY } from '../../src/llm/retry-policy.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import type { RateLimiter, RateLimitLease } from '../../src/llm/rate-limiter.ts';
import type { ResponseCache } from '../../src/llm/response-cache.ts';
import { LlmError } from '../../src/errors.ts';

/** An adapter double: answers after `hold()` resolves, fails the first `failures` calls. */
function adapter(options: { failures?: number } = {}) {
  let failures = options.failures ?? 0;
  const calls: CompletionRequest[] = [];
  let inFlight = 0;
  let peak = 0;
  const release: Array<() => void> = [];
  const backend: LlmBackend = {
    kind: 'double',
    modelFor: () => 'model-a',
    async complete(request): Promise<CompletionResult> {
      calls.push(request);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => release.push(resolve));
      inFlight -= 1;
      if (failures > 0) {
        failures -= 1;
        // Retryable, and the server asks for no wait: the retry goes out at once.
        throw new LlmError('connection reset', { retryable: true, fault: 'connection_reset', retryAfterMs: 0 });
      }
      return {
        texts: [`reply ${calls.length}`],
        model: 'model-a',
        usage: { promptTokens: 3, completionTokens: 4, calls: 1 },
      };
    },
    dispose: async () => {},
  };
  return {
    backend,
    calls,
    peak: () => peak,
    /** Lets every call waiting so far answer. */
    answerAll: () => release.splice(0).forEach((resolve) => resolve()),
    waiting: () => release.length,
  };
}

function limiter() {
  const events: string[] = [];
  const rateLimiter: RateLimiter = {
    countsTokens: false,
    async acquire(): Promise<RateLimitLease> {
      events.push('acquire');
      return { release: (tokens) => void events.push(`release ${tokens ?? '-'}`) };
    },
  };
  return { rateLimiter, events };
}

function memoryCache() {
  const entries = new Map<string, string>();
  const cache: ResponseCache = {
    kind: 'memory',
    get: async (key) => entries.get(key),
    set: async (key, value) => void entries.set(key, value),
    close: async () => {},
  };
  return { cache, entries };
}

const request: CompletionRequest = { role: 'generator', messages: [{ role: 'user', content: 'hi' }], seed: 1 };

/** Answers calls as they arrive until `done` settles. */
async function answering<T>(double: ReturnType<typeof adapter>, done: Promise<T>): Promise<T> {
  let settled = false;
  void done.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    double.answerAll();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return done;
}

describe('buildLlmStack', () => {
  it('serves a cached reply without taking a rate-limit slot or reaching the adapter', async () => {
    const double = adapter();
    const { rateLimiter, events } = limiter();
    const { cache, entries } = memoryCache();
    const stack = buildLlmStack({ adapter: double.backend, maxInFlight: 4, rateLimiter, responseCache: cache });

    const paid = await answering(double, stack.complete(request));
    expect(paid.usage.calls).toBe(1);
    expect(events).toEqual(['acquire', 'release 7']);
    expect(entries.size).toBe(1);

    const replayed = await stack.complete(request);
    expect(replayed.texts).toEqual(paid.texts);
    expect(replayed.usage).toEqual({ promptTokens: 0, completionTokens: 0, calls: 0 });
    expect(double.calls).toHaveLength(1);
    expect(events).toHaveLength(2);
  });

  it('retries inside the cache and outside the limits: each attempt takes its own slot, only the final reply is stored', async () => {
    const double = adapter({ failures: 2 });
    const { rateLimiter, events } = limiter();
    const { cache, entries } = memoryCache();
    const stack = buildLlmStack({
      adapter: double.backend,
      maxInFlight: 4,
      rateLimiter,
      responseCache: cache,
      faultTolerance: { retryPolicy: { ...DEFAULT_RETRY_POLICY, maxRetries: 2 } },
    });
    const result = await answering(double, stack.complete(request));
    expect(double.calls).toHaveLength(3);
    expect(events).toEqual(['acquire', 'release -', 'acquire', 'release -', 'acquire', 'release 7']);
    expect(result.texts).toEqual(['reply 3']);
    expect([...entries.values()].map((value) => JSON.parse(value).text)).toEqual(['reply 3']);
  });

  it('keeps at most maxInFlight calls at the adapter', async () => {
    const double = adapter();
    const stack = buildLlmStack({ adapter: double.backend, maxInFlight: 2 });
    const all = Promise.all(Array.from({ length: 6 }, (_, index) => stack.complete({ ...request, seed: index })));
    await expect.poll(double.waiting).toBe(2);
    const results = await answering(double, all);
    expect(results).toHaveLength(6);
    expect(double.peak()).toBe(2);
  });

  it('works without stores: no cache, only the local limit', async () => {
    const double = adapter();
    const stack = buildLlmStack({ adapter: double.backend, maxInFlight: 1 });
    await answering(double, stack.complete(request));
    await answering(double, stack.complete(request));
    expect(double.calls).toHaveLength(2);
  });
});
