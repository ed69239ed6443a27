import { z } from 'zod';
import { ImportSummarySchema } from './import-summary.ts';
import { ReplyParsingSchema } from './outcome-line.ts';
import { UsageByRoleSchema, emptyUsageByRole } from './usage.ts';
import { FewShotCountSchema } from './outcome-line.ts';
import { BatchSummarySchema } from './batch-state.ts';

/** Counts, usage and timing of one iteration. */
export const IterationSummarySchema = z.object({
  iteration: z.number().int().min(1),
  /** Few-shot pool version the generator sampled from. */
  pool_version: z.number().int().min(0),
  pairs: z.number().int().min(0),
  /** Pairs finished so far (accepted + rejected + failed). */
  done: z.number().int().min(0),
  candidates: z.number().int().min(0),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Candidates removed, by the check or critic that removed them. */
  filtered_by: z.record(z.string(), z.number().int()),
  usage: UsageByRoleSchema,
  cost_usd: z.number().min(0),
  duration_ms: z.number().min(0),
  /** Size of the pool after this iteration's winners joined. */
  pool_size_after: z.number().int().min(0).nullable(),
  /** How this iteration's generator replies parsed (absent before the first finished pair). */
  reply_parsing: ReplyParsingSchema.optional(),
  /** Few-shot examples planned and shown, summed over the pairs (fewer shown = prompts fitted to the context). */
  few_shot: FewShotCountSchema.optional(),
});
export type IterationSummary = z.infer<typeof IterationSummarySchema>;

/**
 * Where a run's context length came from: `model` (the local model's context per sequence),
 * `config` (`llm.context_length`), `endpoint` (the model's `GET /models` entry), `none` (unknown:
 * prompts are sent unfitted).
 */
export const ContextSourceSchema = z.enum(['model', 'config', 'endpoint', 'none']);
export type ContextSource = z.infer<typeof ContextSourceSchema>;

/** The context length prompts were fitted to (prompt + reply tokens per request) and its source. */
export const ContextLengthSchema = z.object({
  tokens: z.number().int().positive().nullable(),
  source: ContextSourceSchema,
});
export type ContextLength = z.infer<typeof ContextLengthSchema>;

/** `manifest.json`: what a run did, rewritten atomically after every iteration and at the end. */
export const ManifestSchema = z.object({
  run_id: z.string(),
  schema_version: z.number().int(),
  status: z.enum(['running', 'completed', 'budget_exhausted', 'interrupted', 'failed']),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  config_fingerprint: z.string(),
  executor: z.string(),
  backend: z.string(),
  models: z.object({ generator: z.string(), critic: z.string() }),
  versions: z.object({
    persona_forge: z.string(),
    node: z.string(),
    prompt_hash: z.string(),
    critic_hashes: z.record(z.string(), z.string()),
  }),
  iterations: z.array(IterationSummarySchema),
  /** LLM use outside pair jobs: profile construction (contradiction checks) while planning pairs. */
  planning: z
    .object({ usage: UsageByRoleSchema, cost_usd: z.number().min(0) })
    .default({ usage: emptyUsageByRole(), cost_usd: 0 }),
  totals: z.object({
    pairs: z.number().int(),
    accepted: z.number().int(),
    rejected: z.number().int(),
    failed: z.number().int(),
    candidates: z.number().int(),
    usage: UsageByRoleSchema,
    cost_usd: z.number(),
    duration_ms: z.number(),
    /** Iterations plus planning. */
    /** LLM calls per accepted conversation, by role, planning included (null before the first acceptance). */
    calls_per_accepted: z.object({ generator: z.number(), critic: z.number() }).nullable(),
    /** How the run's generator replies parsed, over all iterations. */
    reply_parsing: ReplyParsingSchema.optional(),
    /** Few-shot examples planned and shown over all pairs. */
    few_shot: FewShotCountSchema.optional(),
  }),
  /** Why the run stopped early, when it did. */
  /** `--batch`: batches, requests by stage, failed requests, re-attachments and the cost without batch prices (absent without `--batch`). */
  batches: BatchSummarySchema.optional(),
  stop_reason: z.string().nullable(),
  /** What reading `personas.source` imported, repaired (by kind) and skipped (by reason, with lines); null without a source. */
  personas_import: ImportSummarySchema.nullable().default(null),
  /** The context length prompts were fitted to and where it came from (absent in manifests of older runs). */
  context_length: ContextLengthSchema.optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;
