import type { RunConfig } from '../../schemas/run-config.ts';

/** Pair jobs in flight at once in batch mode, at most (the config's own cap on `concurrency`). */
const MAX_BATCH_CONCURRENCY = 1024;
/** LLM calls in flight in batch mode: each waits in a batch, not on a connection. */
const BATCH_MAX_IN_FLIGHT = 100_000;

/**
 * The run config for `--batch` (a pure function; a config without `llm.batch` comes back as is):
 * every pair of an iteration in flight at once (`concurrency` raised to `target` or `pairs`, at
 * most 1024; a run with a budget cap keeps its own `concurrency`) and no cap on calls in flight, so the generator calls of an iteration form one batch
 * and each critic stage the next; hedging off (a batch request is slow by design, and a hedged copy
 * would only join the same batch).
 */
export function applyBatchMode(config: RunConfig): RunConfig {
  if (!config.llm.batch) return config;
  // A budget cap is checked as pairs finish: with one in-flight wave per iteration it could be
  // overshot by a whole iteration, so a capped run keeps its `concurrency` (raise it for bigger batches).
  const capped = config.budget.max_cost_usd !== undefined || config.budget.max_tokens !== undefined;
  const wanted = capped
    ? config.concurrency
    : Math.min(MAX_BATCH_CONCURRENCY, Math.max(config.concurrency, config.target ?? config.pairs));
  return {
    ...config,
    concurrency: wanted,
    llm: { ...config.llm, max_in_flight: Math.max(config.llm.max_in_flight, BATCH_MAX_IN_FLIGHT), hedge: false },
  };
}

/**
 * Profiles built together by profile planning in batch mode, their contradiction checks asked in
 * rounds (one batch per round): all of them (`undefined`) without a budget cap; with a cap, the
 * profiles of the `concurrency` pairs in flight (at least 8, as planning without batches), so the
 * cap, checked as calls return, is overshot by one round of that many checks at most.
 */
export function batchPlanningProfilesAtOnce(config: Pick<RunConfig, 'budget' | 'concurrency'>): number | undefined {
  const capped = config.budget.max_cost_usd !== undefined || config.budget.max_tokens !== undefined;
  return capped ? Math.max(8, 2 * config.concurrency) : undefined;
}
