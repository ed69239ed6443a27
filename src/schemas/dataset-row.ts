import { z } from 'zod';
import { TurnSchema } from './turn.ts';

export const SCHEMA_VERSION = 1;

/** Provenance of an accepted conversation. */
export const LineageSchema = z.object({
  generator_model: z.string(),
  critic_model: z.string(),
  /** Hash of the generator prompt template file (12 hex chars). */
  prompt_hash: z.string(),
  /** Hashes of the critic files used, by critic name. */
  critic_hashes: z.record(z.string(), z.string()),
  /** Ids of the few-shot pool records shown to the generator. */
  few_shot_ids: z.array(z.string()),
  /** Pool version sampled from (iteration i samples version i-1). */
  pool_version: z.number().int().min(0),
  /** Index of the winning candidate among those generated for the pair. */
  candidate_index: z.number().int().min(0),
  /** How many candidates were generated for the pair. */
  candidates: z.number().int().min(1),
  /**
   * The selection scheme that chose the winner (`describeSelection`), e.g. `listwise; second order
   * when-uncertain; filters folded`. Absent in rows written before selection schemes existed.
   */
  selection: z.string().optional(),
  /**
   * Few-shot examples actually shown (`few_shot_ids.length`): fewer than `generation.few_shot`
   * when the prompt had to fit the model's context. Absent in rows written before it existed.
   */
  few_shot_used: z.number().int().min(0).optional(),
});
export type Lineage = z.infer<typeof LineageSchema>;

/** One accepted conversation: a row of `conversations.jsonl` and `dataset.parquet`. */
export const DatasetRowSchema = z.object({
  id: z.string(),
  run_id: z.string(),
  iteration: z.number().int().min(1),
  pair_id: z.string(),
  user1_persona: z.array(z.string()),
  user2_persona: z.array(z.string()),
  turns: z.array(TurnSchema).min(2),
  /** Score per critic: filters 1 (passed) with confidence, rankers the winner's wins; plus `copeland`. */
  scores: z.record(z.string(), z.number()),
  lineage: LineageSchema,
  usage: z.object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    cost_usd: z.number().min(0),
  }),
  created_at: z.string(),
  schema_version: z.literal(SCHEMA_VERSION),
});
export type DatasetRow = z.infer<typeof DatasetRowSchema>;
