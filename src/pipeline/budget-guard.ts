import type { RunConfig } from '../schemas/run-config.ts';
import type { IterationSummary } from '../schemas/manifest.ts';
import type { OutcomeLine } from '../schemas/outcome-line.ts';
import { totalTokens } from './iteration-tally.ts';
import type { UsageByRole } from '../schemas/usage.ts';

/**
 * Watches the run's spend against `--max-cost` / `--max-tokens` and the caller's signal.
 * `signal` aborts when either trips, so the executor admits no new pair and planning stops
 * (`PairPlanner` charges every planning call here). The reason names the cap that tripped.
 */
export class BudgetGuard {
  private readonly controller = new AbortController();
  private costUsd = 0;
  private tokens = 0;
  /** Why the run stopped, once it has. */
  reason: string | null = null;
  exhausted = false;

  constructor(
    private readonly budget: RunConfig['budget'],
    external?: AbortSignal,
  ) {
    const stop = () => {
      if (!this.reason) this.reason = 'interrupted by the user (SIGINT/SIGTERM)';
      this.controller.abort();
    };
    if (external?.aborted) stop();
    else external?.addEventListener('abort', stop, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Counts finished work: whole iteration summaries (on resume) or one outcome. */
  add(
    summaries: readonly IterationSummary[],
    outcome?: OutcomeLine,
    planning?: { usage: UsageByRole; cost_usd: number },
  ): void {
    if (planning) {
      this.costUsd += planning.cost_usd;
      this.tokens += totalTokens(planning.usage);
    }
    for (const summary of summaries) {
      this.costUsd += summary.cost_usd;
      this.tokens += totalTokens(summary.usage);
    }
    if (outcome) {
      this.costUsd += outcome.cost_usd;
      this.tokens += totalTokens(outcome.usage);
    }
    this.check();
  }

  /**
   * Counts one LLM call made outside a pair (profile planning): `tokens` prompt + completion, its
   * cost in USD. Planning calls are paid like any other, so the caps stop planning too.
   */
  charge(tokens: number, costUsd: number): void {
    this.tokens += tokens;
    this.costUsd += costUsd;
    this.check();
  }

  /** Tokens and cost counted so far (pairs, planning and earlier sessions). */
  get spent(): { tokens: number; costUsd: number } {
    return { tokens: this.tokens, costUsd: this.costUsd };
  }

  private check(): void {
    if (this.controller.signal.aborted) return;
    const { max_cost_usd: maxCost, max_tokens: maxTokens } = this.budget;
    if (maxCost !== undefined && this.costUsd >= maxCost) {
      this.trip(`budget reached: spent $${this.costUsd.toFixed(4)} of --max-cost $${maxCost}`);
    } else if (maxTokens !== undefined && this.tokens >= maxTokens) {
      this.trip(`budget reached: used ${this.tokens} of --max-tokens ${maxTokens} tokens`);
    }
  }

  private trip(reason: string): void {
    this.reason = reason;
    this.exhausted = true;
    this.controller.abort();
  }
}
