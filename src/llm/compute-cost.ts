import type { PriceTable } from '../schemas/price-table.ts';
import type { TokenUsage, UsageByRole } from '../schemas/usage.ts';

/** Share of the price paid for batch-API tokens when the price table does not say (OpenAI: 50% off). */
export const DEFAULT_BATCH_PRICE_FACTOR = 0.5;

/**
 * Cost in USD of some token usage of one model; unknown models cost 0. Prompt tokens served from
 * the provider's prompt cache (`cached_prompt_tokens`, part of `prompt_tokens`) are priced at
 * `cached_input_per_million_usd` (the input price when the table has none). Tokens served through
 * a batch API (`batch_prompt_tokens`, `batch_completion_tokens`) cost `batch_price_factor` (0.5)
 * of their price; cached tokens are assumed to be among the non-batch ones first.
 */
export function computeCost(prices: PriceTable, model: string, usage: TokenUsage): number {
  const price = prices[model];
  if (!price) return 0;
  const factor = price.batch_price_factor ?? DEFAULT_BATCH_PRICE_FACTOR;
  const batchPrompt = Math.min(usage.batch_prompt_tokens ?? 0, usage.prompt_tokens);
  const batchCompletion = Math.min(usage.batch_completion_tokens ?? 0, usage.completion_tokens);
  const cached = Math.min(usage.cached_prompt_tokens ?? 0, usage.prompt_tokens);
  const cachedPrice = price.cached_input_per_million_usd ?? price.input_per_million_usd;
  // Prompt tokens split into: cached (any), batch (uncached), plain.
  const cachedOutsideBatch = Math.min(cached, usage.prompt_tokens - batchPrompt);
  const cachedInBatch = cached - cachedOutsideBatch;
  const plainPrompt = usage.prompt_tokens - batchPrompt - cachedOutsideBatch;
  return (
    (plainPrompt * price.input_per_million_usd +
      cachedOutsideBatch * cachedPrice +
      cachedInBatch * cachedPrice * factor +
      (batchPrompt - cachedInBatch) * price.input_per_million_usd * factor +
      (usage.completion_tokens - batchCompletion) * price.output_per_million_usd +
      batchCompletion * price.output_per_million_usd * factor) /
    1_000_000
  );
}

/** Cost in USD of usage split by role, each role priced by its own model. */
export function computeRoleCost(
  prices: PriceTable,
  models: { generator: string; critic: string },
  usage: UsageByRole,
): number {
  return computeCost(prices, models.generator, usage.generator) + computeCost(prices, models.critic, usage.critic);
}

/** Share of all tokens served through a batch API (`--batch`; 0 without batches). */
export function batchTokenShare(usage: UsageByRole): number {
  const roles = [usage.generator, usage.critic];
  const total = roles.reduce((sum, role) => sum + role.prompt_tokens + role.completion_tokens, 0);
  const batch = roles.reduce(
    (sum, role) => sum + (role.batch_prompt_tokens ?? 0) + (role.batch_completion_tokens ?? 0),
    0,
  );
  return total > 0 ? batch / total : 0;
}

/** Share of prompt tokens served from a provider prompt cache (0 when none were reported). */
export function cachedPromptShare(usage: UsageByRole): number {
  const prompt = usage.generator.prompt_tokens + usage.critic.prompt_tokens;
  const cached = (usage.generator.cached_prompt_tokens ?? 0) + (usage.critic.cached_prompt_tokens ?? 0);
  return prompt > 0 ? cached / prompt : 0;
}
