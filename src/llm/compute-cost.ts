import type { PriceTable } from '../schemas/price-table.ts';
import type { TokenUsage, UsageByRole } from '../schemas/usage.ts';

/**
 * Cost in USD of some token usage of one model; unknown models cost 0. Prompt tokens served from
 * the provider's prompt cache (`cached_prompt_tokens`, part of `prompt_tokens`) are priced at
 * `cached_input_per_million_usd` (the input price when the table has none).
 */
export function computeCost(prices: PriceTable, model: string, usage: TokenUsage): number {
  const price = prices[model];
  if (!price) return 0;
  const cached = Math.min(usage.cached_prompt_tokens ?? 0, usage.prompt_tokens);
  const cachedPrice = price.cached_input_per_million_usd ?? price.input_per_million_usd;
  return (
    ((usage.prompt_tokens - cached) * price.input_per_million_usd +
      cached * cachedPrice +
      usage.completion_tokens * price.output_per_million_usd) /
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

/** Share of prompt tokens served from a provider prompt cache (0 when none were reported). */
export function cachedPromptShare(usage: UsageByRole): number {
  const prompt = usage.generator.prompt_tokens + usage.critic.prompt_tokens;
  const cached = (usage.generator.cached_prompt_tokens ?? 0) + (usage.critic.cached_prompt_tokens ?? 0);
  return prompt > 0 ? cached / prompt : 0;
}
