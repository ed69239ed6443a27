import type { Redis } from 'ioredis';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../llm/llm-backend.ts';
import { computeCost } from '../../llm/compute-cost.ts';
import { RedisCommandBatch } from './redis-command-batch.ts';
import type { PriceTable } from '../../schemas/price-table.ts';
import { emptyUsageByRole, type UsageByRole } from '../../schemas/usage.ts';

export interface RedisUsageCounterOptions {
  /** The run's usage hash, e.g. `pf:run:<run id>:usage`. */
  key: string;
  prices: PriceTable;
  /** Seconds the hash lives after its last update. @defaultValue 604800 (7 days) */
  ttlSeconds?: number;
}

/**
 * A backend decorator that adds every paid call (calls > 0, so cache hits count nothing) to the
 * run's usage hash, so the run's tokens and cost are one number across all workers: fields
 * `<role>_prompt_tokens`, `<role>_completion_tokens`, `<role>_calls`, and `cost_usd`.
 * The increments are written behind in the connection's `RedisCommandBatch` (with the replies'
 * cache entries): a paid call's result is returned at once and accounting never fails it; they are
 * stored once `RedisCommandBatch.for(redis).flushWith()` resolves, or within 50 ms.
 */
export function countUsageInRedis(backend: LlmBackend, redis: Redis, options: RedisUsageCounterOptions): LlmBackend {
  const ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
  const batch = RedisCommandBatch.for(redis);
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      const result = await backend.complete(request);
      const { promptTokens, completionTokens, calls } = result.usage;
      if (calls > 0) {
        const cost = computeCost(options.prices, backend.modelFor(request.role), {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          calls,
        });
        batch.increment(
          options.key,
          {
            [`${request.role}_prompt_tokens`]: promptTokens,
            [`${request.role}_completion_tokens`]: completionTokens,
            [`${request.role}_calls`]: calls,
          },
          cost > 0 ? { cost_usd: cost } : {},
          ttlSeconds,
        );
      }
      return result;
    },
    // The wrapped backend is owned by whoever created it.
    dispose: async () => {},
  };
}

/** Reads a run's usage hash (written by `countUsageInRedis`). */
export async function readRunUsage(redis: Redis, key: string): Promise<{ usage: UsageByRole; costUsd: number }> {
  const fields = await redis.hgetall(key);
  const usage = emptyUsageByRole();
  for (const role of ['generator', 'critic'] as const) {
    usage[role].prompt_tokens = Number(fields[`${role}_prompt_tokens`] ?? 0);
    usage[role].completion_tokens = Number(fields[`${role}_completion_tokens`] ?? 0);
    usage[role].calls = Number(fields[`${role}_calls`] ?? 0);
  }
  return { usage, costUsd: Number(fields.cost_usd ?? 0) };
}
