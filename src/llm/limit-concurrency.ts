import pLimit from 'p-limit';
import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';
import { contextCapabilityOf } from './with-context-length.ts';

/**
 * A backend decorator that keeps at most `maxInFlight` `complete` calls running; the rest wait
 * in FIFO order. One call that fans out into separate per-sample requests counts once.
 */
export function limitConcurrency(backend: LlmBackend, maxInFlight: number): LlmBackend {
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new TypeError(`Expected \`maxInFlight\` to be a positive integer, got ${maxInFlight}.`);
  }
  const limit = pLimit(maxInFlight);
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    ...contextCapabilityOf(backend),
    complete: (request: CompletionRequest): Promise<CompletionResult> => limit(() => backend.complete(request)),
    // The wrapped backend is owned by whoever created it.
    dispose: async () => {},
  };
}
