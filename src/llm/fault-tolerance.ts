import type { LlmConfig } from '../schemas/run-config.ts';
import type { HedgeOptions } from './hedge-backend.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts';

/** How an LLM stack rides out a faulty endpoint: the retry policy, and hedging of slow requests. */
export interface FaultTolerance {
  /** The one retry policy (`src/llm/retry-policy.ts`). */
  retryPolicy: RetryPolicy;
  /** Hedging of requests past their learned deadline (`hedgeBackend`); absent: none. */
  hedging?: HedgeOptions;
}

/**
 * The fault tolerance a run config asks for: `llm.max_retries` retries per request, and, for an
 * OpenAI-compatible endpoint with `llm.hedge` on, hedging with deadlines learned per role and
 * model (2 × p95, at least 1 s, at most `llm.timeout_ms`). A local model is not hedged: a second
 * copy would only compete with the first for the same sequences.
 */
export function faultToleranceFor(
  llm: Pick<LlmConfig, 'max_retries' | 'timeout_ms' | 'hedge'>,
  adapterKind: string,
): FaultTolerance {
  return {
    retryPolicy: { ...DEFAULT_RETRY_POLICY, maxRetries: llm.max_retries },
    ...(llm.hedge && adapterKind === 'openai-compatible' && { hedging: { ceilingMs: llm.timeout_ms } }),
  };
}
