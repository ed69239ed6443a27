import type { IterationSummary } from '../schemas/manifest.ts';
import type { OutcomeLine } from '../schemas/outcome-line.ts';
import { addReplyParsing } from '../util/add-reply-parsing.ts';
import { emptyUsageByRole, type UsageByRole } from '../schemas/usage.ts';
import { addUsage } from '../util/add-usage.ts';

export function emptyIterationSummary(iteration: number, pairs: number): IterationSummary {
  return {
    iteration,
    pool_version: iteration - 1,
    pairs,
    done: 0,
    candidates: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
    filtered_by: {},
    usage: emptyUsageByRole(),
    cost_usd: 0,
    duration_ms: 0,
    pool_size_after: null,
  };
}

/** Adds one finished pair to its iteration's counts. */
export function tallyOutcome(summary: IterationSummary, outcome: OutcomeLine): void {
  summary.done += 1;
  summary[outcome.status] += 1;
  summary.candidates += outcome.candidates;
  for (const [critic, count] of Object.entries(outcome.reasons)) {
    summary.filtered_by[critic] = (summary.filtered_by[critic] ?? 0) + count;
  }
  addUsage(summary.usage, outcome.usage);
  summary.cost_usd += outcome.cost_usd;
  if (outcome.reply_parsing) summary.reply_parsing = addReplyParsing(summary.reply_parsing, outcome.reply_parsing);
  if (outcome.few_shot) {
    summary.few_shot ??= { planned: 0, used: 0 };
    summary.few_shot.planned += outcome.few_shot.planned;
    summary.few_shot.used += outcome.few_shot.used;
  }
}

export const totalTokens = (usage: UsageByRole) =>
  usage.generator.prompt_tokens +
  usage.generator.completion_tokens +
  usage.critic.prompt_tokens +
  usage.critic.completion_tokens;
