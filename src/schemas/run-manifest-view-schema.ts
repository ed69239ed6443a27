import { z } from 'zod';

/*
 * What the report, the dataset card and `evaluate` read of `manifest.json`. Deliberately lenient:
 * every field is optional and a field of the wrong type reads as absent (`.catch`), so a manifest
 * from an older or newer persona-forge (or one rewritten mid-run) still renders. The writer's
 * strict shape is `ManifestSchema` in `src/schemas/manifest.ts`.
 */

const count = z.number().min(0).optional().catch(undefined);
const text = z.string().optional().catch(undefined);

export const TokenUsageViewSchema = z.object({
  prompt_tokens: z.number().catch(0).default(0),
  completion_tokens: z.number().catch(0).default(0),
  calls: z.number().catch(0).default(0),
  /** Prompt tokens served from the provider's prompt cache; absent when the endpoint did not report them. */
  cached_prompt_tokens: z.number().optional().catch(undefined),
  /** Tokens served through a batch API (`--batch`); absent without batches. */
  batch_prompt_tokens: z.number().optional().catch(undefined),
  batch_completion_tokens: z.number().optional().catch(undefined),
});
export type TokenUsageView = z.infer<typeof TokenUsageViewSchema>;

const UsageByRoleViewSchema = z
  .object({
    generator: TokenUsageViewSchema.optional().catch(undefined),
    critic: TokenUsageViewSchema.optional().catch(undefined),
  })
  .optional()
  .catch(undefined);

export const IterationViewSchema = z.object({
  iteration: z.number().int(),
  pool_version: count,
  pairs: count,
  candidates: count,
  accepted: count,
  rejected: count,
  failed: count,
  filtered_by: z.record(z.string(), z.number()).optional().catch(undefined),
  usage: UsageByRoleViewSchema,
  cost_usd: count,
  duration_ms: count,
});
export type IterationView = z.infer<typeof IterationViewSchema>;

export const RunManifestViewSchema = z.object({
  run_id: text,
  schema_version: z.number().optional().catch(undefined),
  created_at: text,
  finished_at: z.string().nullable().optional().catch(undefined),
  status: text,
  config_fingerprint: text,
  versions: z
    .object({
      persona_forge: text,
      node: text,
      prompt_hash: text,
      critic_hashes: z.record(z.string(), z.string()).optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  models: z.object({ generator: text, critic: text }).optional().catch(undefined),
  iterations: z
    .array(z.unknown())
    .optional()
    .catch(undefined)
    // Keep the iterations that parse; drop the rest rather than the whole manifest.
    .transform((items) =>
      (items ?? []).flatMap((item) => {
        const parsed = IterationViewSchema.safeParse(item);
        return parsed.success ? [parsed.data] : [];
      }),
    ),
  totals: z
    .object({
      pairs: count,
      accepted: count,
      rejected: count,
      failed: count,
      candidates: count,
      usage: UsageByRoleViewSchema,
      cost_usd: count,
      duration_ms: count,
    })
    .optional()
    .catch(undefined),
  stop_reason: z.string().nullable().optional().catch(undefined),
});
export type RunManifestView = z.infer<typeof RunManifestViewSchema>;
