import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';
import type { ResponseCache } from './response-cache.ts';
import { responseCacheKeys } from './response-cache-key.ts';
import { contextCapabilityOf } from './with-context-length.ts';

interface CachedSample {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/**
 * A backend decorator that answers from `cache` when every sample of a request is stored, and
 * stores each sample of a paid reply. A replayed request costs nothing: usage reports the tokens
 * with `calls: 0`, so accounting shows what was paid, not what was served.
 */
export function cacheResponses(backend: LlmBackend, cache: ResponseCache): LlmBackend {
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    ...contextCapabilityOf(backend),
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      const samples = request.samples ?? 1;
      const model = backend.modelFor(request.role);
      const keys = responseCacheKeys(model, request, samples);
      const stored = await Promise.all(keys.map((key) => cache.get(key)));
      if (stored.every((value) => value !== undefined)) {
        const hits = stored.map((value) => JSON.parse(value!) as CachedSample);
        return {
          texts: hits.map((hit) => hit.text),
          model: hits[0].model,
          usage: { promptTokens: 0, completionTokens: 0, calls: 0 },
        };
      }
      const result = await backend.complete(request);
      // Per-sample token split is approximate when the endpoint reports one total for n samples.
      await Promise.all(
        result.texts.map((text, index) =>
          cache.set(
            keys[index],
            JSON.stringify({
              text,
              model: result.model,
              promptTokens: Math.round(result.usage.promptTokens / result.texts.length),
              completionTokens: Math.round(result.usage.completionTokens / result.texts.length),
            } satisfies CachedSample),
          ),
        ),
      );
      return result;
    },
    dispose: async () => {},
  };
}
