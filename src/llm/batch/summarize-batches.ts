import type { BatchSummary } from '../../schemas/batch-state.ts';
import type { PriceTable } from '../../schemas/price-table.ts';
import type { UsageByRole } from '../../schemas/usage.ts';
import { computeRoleCost } from '../compute-cost.ts';
import { readBatchStateLines } from './read-batch-state-lines.ts';

/**
 * The manifest's `batches`: batches, requests (by stage), failed requests and re-attachments
 * counted from the run's `batches.jsonl` (every session of the run, so a restart counts what it
 * re-attached to once), and what `usage` would have cost with its batch tokens at the full price.
 * A line torn by a crash is skipped, as `BatchingConnection` skips it.
 */
export async function summarizeBatches(
  stateFile: string,
  pricing: { prices: PriceTable; models: { generator: string; critic: string }; usage: UsageByRole },
): Promise<BatchSummary> {
  const summary: BatchSummary = {
    batches: 0,
    requests: 0,
    requests_by_stage: {},
    failed_requests: 0,
    reattached: 0,
    cost_without_batch_usd: computeRoleCost(pricing.prices, pricing.models, withoutBatchTokens(pricing.usage)),
  };
  for (const line of await readBatchStateLines(stateFile)) {
    if (line.status === 'submitted') {
      summary.batches += 1;
      summary.requests += line.custom_ids?.length ?? 0;
      for (const [stage, count] of Object.entries(line.requests_by_stage ?? {}))
        summary.requests_by_stage[stage] = (summary.requests_by_stage[stage] ?? 0) + count;
    } else if (line.status === 'reattached') summary.reattached += 1;
    else if (line.status === 'request_failed') summary.failed_requests += line.failed_custom_ids?.length ?? 0;
  }
  return summary;
}

function withoutBatchTokens(usage: UsageByRole): UsageByRole {
  const strip = (role: UsageByRole['generator']) => {
    const { batch_prompt_tokens: _prompt, batch_completion_tokens: _completion, ...rest } = role;
    return rest;
  };
  return { ...usage, generator: strip(usage.generator), critic: strip(usage.critic) };
}
