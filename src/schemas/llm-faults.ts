import { z } from 'zod';

/**
 * Transient faults met while serving LLM calls, and what handling them cost. The rules are those
 * of `src/llm/retry-policy.ts` (retries) and `src/llm/hedge-backend.ts` (hedges).
 */
export const LlmFaultsSchema = z.object({
  /**
   * Retries by cause: `rate_limited` (429), `server_error` (408/409/5xx), `timeout` (the configured
   * timeout), `connection_reset`, `truncated_body`,
   * `malformed_body` (a 2xx body that is not a chat completion), `empty_reply`, `invalid_json`
   * (content still not valid JSON for the schema after the one repair).
   */
  retries: z.record(z.string(), z.number().int().min(0)).default({}),
  /** Extra copies sent because a request (or its last copy) ran past its learned deadline. */
  hedges: z.number().int().min(0).default(0),
  /** Copies given up on: the losers of hedged requests (aborted when another copy answered). */
  abandoned: z.number().int().min(0).default(0),
  /**
   * Estimated prompt tokens of the abandoned copies (~4 characters per token): what hedging cost
   * beyond the usage of the answers kept (their completion tokens, if any, are unknown).
   */
  abandoned_prompt_tokens: z.number().int().min(0).default(0),
});
export type LlmFaults = z.infer<typeof LlmFaultsSchema>;

export const emptyLlmFaults = (): LlmFaults => ({ retries: {}, hedges: 0, abandoned: 0, abandoned_prompt_tokens: 0 });

/** Adds `source` into `target` (either may be absent); returns the sum, or undefined when both are. */
export function addLlmFaults(target: LlmFaults | undefined, source: LlmFaults | undefined): LlmFaults | undefined {
  if (!source) return target;
  const sum = target ?? emptyLlmFaults();
  for (const [cause, count] of Object.entries(source.retries)) sum.retries[cause] = (sum.retries[cause] ?? 0) + count;
  sum.hedges += source.hedges;
  sum.abandoned += source.abandoned;
  sum.abandoned_prompt_tokens += source.abandoned_prompt_tokens;
  return sum;
}
