import { describe, expect, it } from 'vitest';
import { BudgetGuard } from '../../src/pipeline/budget-guard.ts';
import { emptyIterationSummary } from '../../src/pipeline/iteration-tally.ts';
import type { OutcomeLine } from '../../src/schemas/outcome-line.ts';
import type { UsageByRole } from '../../src/schemas/usage.ts';

const usage = (generatorTokens: number, criticTokens = 0): UsageByRole => ({
  generator: { prompt_tokens: generatorTokens, completion_tokens: 0, calls: 1 },
  critic: { prompt_tokens: criticTokens, completion_tokens: 0, calls: 1 },
});

const outcome = (tokens: number, costUsd: number): OutcomeLine => ({
  iteration: 1,
  pair_id: `p${tokens}-${costUsd}`,
  status: 'accepted',
  row_id: null,
  candidates: 2,
  reasons: {},
  error: null,
  usage: usage(tokens),
  cost_usd: costUsd,
  duration_ms: 1,
});

describe('BudgetGuard', () => {
  it('stays open under the budget and trips at --max-cost, aborting its signal', () => {
    const guard = new BudgetGuard({ max_cost_usd: 1 });
    guard.add([], outcome(10, 0.4));
    guard.add([], outcome(10, 0.5));
    expect(guard.signal.aborted).toBe(false);
    expect(guard.exhausted).toBe(false);
    guard.add([], outcome(10, 0.1));
    expect(guard.signal.aborted).toBe(true);
    expect(guard.exhausted).toBe(true);
    expect(guard.reason).toBe('budget reached: spent $1.0000 of --max-cost $1');
  });

  it('counts prompt and completion tokens of both roles against --max-tokens', () => {
    const guard = new BudgetGuard({ max_tokens: 100 });
    guard.add([], { ...outcome(0, 0), usage: usage(40, 40) });
    expect(guard.exhausted).toBe(false);
    guard.add([], {
      ...outcome(0, 0),
      usage: {
        generator: { prompt_tokens: 0, completion_tokens: 10, calls: 1 },
        critic: { prompt_tokens: 0, completion_tokens: 10, calls: 1 },
      },
    });
    expect(guard.exhausted).toBe(true);
    expect(guard.reason).toBe('budget reached: used 100 of --max-tokens 100 tokens');
  });

  it('counts the spend of earlier sessions (iteration summaries on resume) and of pair planning', () => {
    const summary = { ...emptyIterationSummary(1, 10), usage: usage(30), cost_usd: 0.25 };
    const guard = new BudgetGuard({ max_cost_usd: 1, max_tokens: 1000 });
    guard.add([summary], undefined, { usage: usage(20), cost_usd: 0.5 });
    expect(guard.exhausted).toBe(false);
    guard.add([], outcome(1, 0.25));
    expect(guard.reason).toBe('budget reached: spent $1.0000 of --max-cost $1');
  });

  it('stops, without calling it a spent budget, when the caller aborts', () => {
    const controller = new AbortController();
    const guard = new BudgetGuard({ max_cost_usd: 100 }, controller.signal);
    expect(guard.signal.aborted).toBe(false);
    controller.abort();
    expect(guard.signal.aborted).toBe(true);
    expect(guard.exhausted).toBe(false);
    expect(guard.reason).toBe('interrupted by the user (SIGINT/SIGTERM)');
    // Spending after the stop does not turn it into a budget stop.
    guard.add([], outcome(10, 500));
    expect(guard.exhausted).toBe(false);
  });

  it('is stopped from the start when the caller already aborted', () => {
    const controller = new AbortController();
    controller.abort();
    const guard = new BudgetGuard({}, controller.signal);
    expect(guard.signal.aborted).toBe(true);
    expect(guard.reason).toMatch(/interrupted/);
  });

  it('never trips without limits', () => {
    const guard = new BudgetGuard({});
    for (let index = 0; index < 50; index++) guard.add([], outcome(1_000_000, 1000));
    expect(guard.signal.aborted).toBe(false);
  });
});
