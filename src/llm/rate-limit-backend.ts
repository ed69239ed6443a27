import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { contextCapabilityOf } from './with-context-length.ts';
import type { RateLimiter } from './rate-limiter.ts';

/**
 * A backend decorator that asks a shared `RateLimiter` before every `complete` call and
 * releases after it. One `complete` call counts as one request in flight; an endpoint that cannot
 * do `n` samples in one request gets one request per sample, so use `samples_mode: n` (or keep
 * `max in flight` at least `candidates` lower than the endpoint's hard limit) when that matters.
 */
export function rateLimitBackend(backend: LlmBackend, limiter: RateLimiter): LlmBackend {
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    ...contextCapabilityOf(backend),
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      // The estimate joins every message: only worth it when a tokens-per-minute limit reads it.
      const lease = await limiter.acquire(limiter.countsTokens ? estimateRequestTokens(request) : 1, request.signal);
      try {
        const result = await backend.complete(request);
        const used = result.usage.promptTokens + result.usage.completionTokens;
        lease.release(used > 0 ? used : undefined);
        return result;
      } catch (error) {
        lease.release();
        throw error;
      }
    },
    // The wrapped backend is owned by whoever created it.
    dispose: async () => {},
  };
}

/** What a request may cost at most, as rate limiters of hosted APIs count it: prompt + max output × samples. */
function estimateRequestTokens(request: CompletionRequest): number {
  const prompt = estimateTokens(request.messages.map((message) => message.content).join('\n'));
  return prompt + (request.maxOutputTokens ?? 0) * (request.samples ?? 1);
}
