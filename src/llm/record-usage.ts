import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';
import { emptyUsageByRole, type UsageByRole } from '../schemas/usage.ts';
import { addLlmFaults } from '../schemas/llm-faults.ts';
import { contextCapabilityOf } from './with-context-length.ts';

/** A backend decorator that adds up token usage per role, for one job or one run. */
export interface UsageRecordingBackend extends LlmBackend {
  readonly usage: UsageByRole;
}

export function recordUsage(backend: LlmBackend): UsageRecordingBackend {
  const usage = emptyUsageByRole();
  return {
    kind: backend.kind,
    usage,
    modelFor: (role) => backend.modelFor(role),
    ...contextCapabilityOf(backend),
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      const result = await backend.complete(request);
      const bucket = usage[request.role];
      bucket.prompt_tokens += result.usage.promptTokens;
      bucket.completion_tokens += result.usage.completionTokens;
      bucket.calls += result.usage.calls;
      if (result.usage.evaluatedPromptTokens !== undefined) {
        bucket.prompt_tokens_evaluated = (bucket.prompt_tokens_evaluated ?? 0) + result.usage.evaluatedPromptTokens;
      }
      if (result.usage.cachedPromptTokens !== undefined) {
        bucket.cached_prompt_tokens = (bucket.cached_prompt_tokens ?? 0) + result.usage.cachedPromptTokens;
      }
      if (result.usage.batchPromptTokens !== undefined) {
        bucket.batch_prompt_tokens = (bucket.batch_prompt_tokens ?? 0) + result.usage.batchPromptTokens;
        bucket.batch_completion_tokens =
          (bucket.batch_completion_tokens ?? 0) + (result.usage.batchCompletionTokens ?? 0);
      }
      if (result.usage.faults) bucket.faults = addLlmFaults(bucket.faults, result.usage.faults);
      return result;
    },
    // The wrapped backend is owned by whoever created it.
    dispose: async () => {},
  };
}
