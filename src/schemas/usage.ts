import { z } from 'zod';
import { LlmFaultsSchema } from './llm-faults.ts';

/** Token usage of one or more LLM calls. */
export const TokenUsageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  /** Number of LLM requests these tokens came from (a cached reply counts 0). */
  calls: z.number().int().min(0).default(0),
  /**
   * Prompt tokens the model actually evaluated: `prompt_tokens` minus those served from a reused
   * prefix (the embedded llama.cpp backend reports it; absent for backends that cannot tell).
   */
  prompt_tokens_evaluated: z.number().int().min(0).optional(),
  /**
   * Prompt tokens the provider served from its prompt cache (OpenAI-compatible
   * `usage.prompt_tokens_details.cached_tokens`), included in `prompt_tokens` and priced at
   * `cached_input_per_million_usd`. Absent when the endpoint does not report it.
   */
  cached_prompt_tokens: z.number().int().min(0).optional(),
  /**
   * Prompt and completion tokens of requests served through a batch API (`--batch`), included in
   * `prompt_tokens` / `completion_tokens` and priced at the batch prices. Absent without batches.
   */
  batch_prompt_tokens: z.number().int().min(0).optional(),
  batch_completion_tokens: z.number().int().min(0).optional(),
  /** Transient faults met while serving these calls: retries by cause, hedges (absent when none). */
  faults: LlmFaultsSchema.optional(),
});
export type TokenUsage = z.infer<typeof TokenUsageSchema>;

export const LlmRoleSchema = z.enum(['generator', 'critic']);
export type LlmRole = z.infer<typeof LlmRoleSchema>;

/** Usage split by role. */
export const UsageByRoleSchema = z.object({
  generator: TokenUsageSchema,
  critic: TokenUsageSchema,
});
export type UsageByRole = z.infer<typeof UsageByRoleSchema>;

export const emptyUsage = (): TokenUsage => ({ prompt_tokens: 0, completion_tokens: 0, calls: 0 });
export const emptyUsageByRole = (): UsageByRole => ({ generator: emptyUsage(), critic: emptyUsage() });
