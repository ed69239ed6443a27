import type { UsageByRole } from '../schemas/usage.ts';
import { addLlmFaults } from '../schemas/llm-faults.ts';

/** Adds `source` into `target`, role by role (tokens, calls, evaluated prompt tokens, faults). */
export function addUsage(target: UsageByRole, source: UsageByRole): void {
  for (const role of ['generator', 'critic'] as const) {
    target[role].prompt_tokens += source[role].prompt_tokens;
    target[role].completion_tokens += source[role].completion_tokens;
    target[role].calls += source[role].calls;
    const evaluated = source[role].prompt_tokens_evaluated;
    if (evaluated !== undefined)
      target[role].prompt_tokens_evaluated = (target[role].prompt_tokens_evaluated ?? 0) + evaluated;
    const cached = source[role].cached_prompt_tokens;
    if (cached !== undefined) target[role].cached_prompt_tokens = (target[role].cached_prompt_tokens ?? 0) + cached;
    for (const key of ['batch_prompt_tokens', 'batch_completion_tokens'] as const) {
      const value = source[role][key];
      if (value !== undefined) target[role][key] = (target[role][key] ?? 0) + value;
    }
    if (source[role].faults) target[role].faults = addLlmFaults(target[role].faults, source[role].faults);
  }
}
