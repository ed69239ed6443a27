import { z } from 'zod';

/** Price of one model in US dollars per million tokens. */
export const ModelPriceSchema = z.object({
  input_per_million_usd: z.number().min(0),
  output_per_million_usd: z.number().min(0),
  /**
   * Price of prompt tokens served from the provider's prompt cache (`cached_prompt_tokens`).
   * @defaultValue `input_per_million_usd` (no discount assumed when absent)
   */
  cached_input_per_million_usd: z.number().min(0).optional(),
  /**
   * Share of the price paid for tokens served through a batch API (`--batch`), 0..1.
   * @defaultValue 0.5 (OpenAI's batch API: 50% off input and output)
   */
  batch_price_factor: z.number().min(0).max(1).optional(),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/** Prices by model name; models not listed cost 0 (e.g. local models). */
export const PriceTableSchema = z.record(z.string(), ModelPriceSchema);
export type PriceTable = z.infer<typeof PriceTableSchema>;
