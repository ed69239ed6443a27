import type { UsageByRole } from '../../schemas/usage.ts';

/** `usage` as if every token had been served through a batch API (`--batch`), for pricing a projection. */
export function asBatchUsage(usage: UsageByRole): UsageByRole {
  const batched = (role: UsageByRole['generator']) => ({
    ...role,
    batch_prompt_tokens: role.prompt_tokens,
    batch_completion_tokens: role.completion_tokens,
  });
  return { generator: batched(usage.generator), critic: batched(usage.critic) };
}
