import { describe, expect, it } from 'vitest';
import { batchTokenShare, cachedPromptShare, computeCost } from '../../src/llm/compute-cost.ts';
import { emptyUsage } from '../../src/schemas/usage.ts';

const price = { input_per_million_usd: 2, output_per_million_usd: 8, cached_input_per_million_usd: 1 };
const usage = (fields: Partial<ReturnType<typeof emptyUsage>>) => ({ ...emptyUsage(), ...fields });

describe('computeCost', () => {
  it('prices plain, cached and batch tokens separately (cached counted outside batches first)', () => {
    // 1,000,000 prompt tokens: 200k cached, 500k through a batch; 100k completion tokens, 40k through a batch.
    const cost = computeCost(
      { m: price },
      'm',
      usage({
        prompt_tokens: 1_000_000,
        completion_tokens: 100_000,
        cached_prompt_tokens: 200_000,
        batch_prompt_tokens: 500_000,
        batch_completion_tokens: 40_000,
      }),
    );
    // plain 300k × 2 + cached 200k × 1 + batch 500k × 2 × 0.5 + completion 60k × 8 + batch 40k × 8 × 0.5, per million
    expect(cost).toBeCloseTo(0.6 + 0.2 + 0.5 + 0.48 + 0.16, 10);
  });

  it('uses the table batch_price_factor, and prices cached tokens inside a fully batched run at both discounts', () => {
    const cost = computeCost(
      { m: { ...price, batch_price_factor: 0.25 } },
      'm',
      usage({
        prompt_tokens: 1_000_000,
        completion_tokens: 0,
        cached_prompt_tokens: 400_000,
        batch_prompt_tokens: 1_000_000,
      }),
    );
    expect(cost).toBeCloseTo(0.4 * 1 * 0.25 + 0.6 * 2 * 0.25, 10);
  });

  it('costs nothing for unlisted models and reports the shares', () => {
    expect(computeCost({}, 'local', usage({ prompt_tokens: 10 }))).toBe(0);
    const byRole = {
      generator: usage({
        prompt_tokens: 80,
        completion_tokens: 20,
        batch_prompt_tokens: 80,
        batch_completion_tokens: 20,
      }),
      critic: usage({ prompt_tokens: 100, cached_prompt_tokens: 45 }),
    };
    expect(batchTokenShare(byRole)).toBeCloseTo(0.5);
    expect(cachedPromptShare(byRole)).toBeCloseTo(0.25);
  });
});
