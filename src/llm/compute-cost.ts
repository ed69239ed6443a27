import type { PriceTable } from '../schemas/price-table.ts';
import type { TokenUsage, UsageByRole } from '../schemas/usage.ts';

/** Cost in USD of some token usage of one model; unknown models cost 0. */
export function computeCost(prices: PriceTable, model: string, usage: TokenUsage): number {
  const price = prices[model];
  if (!price) return 0;
  return (
    (usage.prompt_tokens * price.input_per_million_usd + usage.completion_tokens * price.output_per_million_usd) /
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
