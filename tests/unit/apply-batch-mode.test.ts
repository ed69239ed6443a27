import { describe, expect, it } from 'vitest';
import { applyBatchMode, batchPlanningProfilesAtOnce } from '../../src/llm/batch/apply-batch-mode.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';

describe('applyBatchMode', () => {
  it('puts every pair of an iteration in flight, lifts the in-flight cap and turns hedging off', () => {
    const config = applyBatchMode(RunConfigSchema.parse({ pairs: 200, llm: { batch: true } }));
    expect(config.concurrency).toBe(200);
    expect(config.llm.max_in_flight).toBeGreaterThanOrEqual(100_000);
    expect(config.llm.hedge).toBe(false);
    expect(applyBatchMode(RunConfigSchema.parse({ pairs: 50, target: 3000, llm: { batch: true } })).concurrency).toBe(
      1024,
    );
  });

  it('keeps the configured concurrency under a budget cap, and leaves a run without --batch alone', () => {
    expect(
      applyBatchMode(RunConfigSchema.parse({ pairs: 200, budget: { max_cost_usd: 5 }, llm: { batch: true } }))
        .concurrency,
    ).toBe(4);
    const plain = RunConfigSchema.parse({ pairs: 200 });
    expect(applyBatchMode(plain)).toBe(plain);
  });

  it('plans every profile at once without a budget cap, and those of the pairs in flight with one', () => {
    expect(batchPlanningProfilesAtOnce(RunConfigSchema.parse({ pairs: 200, llm: { batch: true } }))).toBeUndefined();
    const capped = RunConfigSchema.parse({ pairs: 200, concurrency: 30, budget: { max_tokens: 10_000 } });
    expect(batchPlanningProfilesAtOnce(capped)).toBe(60);
    expect(batchPlanningProfilesAtOnce({ ...capped, concurrency: 2 })).toBe(8);
  });
});
