import { z } from 'zod';
import { ImportSummarySchema } from './import-summary.ts';

/*
 * Shapes owned by the evaluation feature: `evaluation.json` and its parts. (Kept beside the code
 * that writes them, as agreed with the lead; candidates for `src/schemas/` once stable.)
 */

const rate = z.number().min(0).max(1);

/** Corpus statistics of one set of conversations (see `computeDatasetStatistics` for definitions). */
export const DatasetStatisticsSchema = z.object({
  conversations: z.number().int().min(0),
  utterances: z.object({
    total: z.number().int().min(0),
    mean: z.number().nullable(),
    /** Linear-interpolation quantiles (Hyndman–Fan type 7); median = P50. */
    median: z.number().nullable(),
    p10: z.number().nullable(),
    p90: z.number().nullable(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    /** Conversations per utterance count (`"26": 61`), for length histograms. */
    distribution: z.record(z.string(), z.number().int()),
  }),
  words_per_utterance: z.number().nullable(),
  attributes_per_profile: z.number().nullable(),
  strict_alternation_rate: rate,
  distinct_1: rate,
  distinct_2: rate,
  bracket_placeholder_rate: rate,
  near_duplicate_rate: rate,
  persona_attribute_coverage: rate.nullable(),
});
export type DatasetStatistics = z.infer<typeof DatasetStatisticsSchema>;

/** Who the judge picked as synthetic in one order; null when the call failed. */
export const DetectionPickSchema = z.enum(['ours', 'reference']).nullable();

/**
 * One AI-detection trial: our conversation against a reference conversation, asked in both
 * orders. lose = the judge picked ours as synthetic in both orders; win = it picked the
 * reference in both; tie = the orders disagree; failed = a call failed.
 */
export const DetectionTrialSchema = z.object({
  conversation_id: z.string(),
  reference_id: z.string(),
  iteration: z.number().int().nullable(),
  /** Picks with ours shown first (as A), then ours shown second (as B). */
  picks: z.tuple([DetectionPickSchema, DetectionPickSchema]),
  outcome: z.enum(['lose', 'win', 'tie', 'failed']),
  rationales: z.tuple([z.string(), z.string()]),
  error: z.string().nullable(),
});
export type DetectionTrial = z.infer<typeof DetectionTrialSchema>;

export const DetectionSummarySchema = z.object({
  trials: z.number().int().min(0),
  lose: z.number().int().min(0),
  win: z.number().int().min(0),
  tie: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Shares of the completed (non-failed) trials; null when none completed. */
  lose_rate: rate.nullable(),
  win_rate: rate.nullable(),
  tie_rate: rate.nullable(),
});
export type DetectionSummary = z.infer<typeof DetectionSummarySchema>;

export const AttributeKindSchema = z.enum(['real', 'negated', 'random', 'contradicting']);
export type AttributeKind = z.infer<typeof AttributeKindSchema>;
export const AttributeLabelSchema = z.enum(['inferred', 'contradicted', 'neither']);
export type AttributeLabel = z.infer<typeof AttributeLabelSchema>;

/** One faithfulness trial: a conversation, one of its users, 8 shuffled candidate attributes. */
export const FaithfulnessTrialSchema = z.object({
  conversation_id: z.string(),
  iteration: z.number().int().nullable(),
  speaker: z.enum(['User 1', 'User 2']),
  items: z.array(
    z.object({
      text: z.string(),
      kind: AttributeKindSchema,
      /** The real attribute a negated or contradicting distractor was made from. */
      source: z.string().nullable(),
      label: AttributeLabelSchema.nullable(),
      rationale: z.string(),
    }),
  ),
  /** Distractors that fell back to a random attribute because the LLM reply was unusable. */
  fallbacks: z.number().int().min(0),
  error: z.string().nullable(),
});
export type FaithfulnessTrial = z.infer<typeof FaithfulnessTrialSchema>;

export const FaithfulnessSummarySchema = z.object({
  trials: z.number().int().min(0),
  failed: z.number().int().min(0),
  attributes_judged: z.number().int().min(0),
  /** Of the attributes marked inferred, the share that are real (the paper's precision). */
  inferred_precision: rate.nullable(),
  /** Of the real attributes, the share marked inferred. */
  real_inferred_rate: rate.nullable(),
  /** Of the real attributes, the share marked contradicted: the conversation is unfaithful to them. */
  real_contradicted_rate: rate.nullable(),
  /** Of all attributes shown, the shares marked inferred / contradicted (the paper's LLM variant). */
  inferred_share: rate.nullable(),
  contradicted_share: rate.nullable(),
  /** Label counts per attribute kind. */
  by_kind: z.record(
    z.string(),
    z.object({ inferred: z.number().int(), contradicted: z.number().int(), neither: z.number().int() }),
  ),
});
export type FaithfulnessSummary = z.infer<typeof FaithfulnessSummarySchema>;

const GroupedSchema = <T extends z.ZodTypeAny>(summary: T) =>
  z.object({
    overall: summary,
    /** Per Generator-Critic iteration (runs only). */
    by_iteration: z.array(z.object({ iteration: z.number().int(), summary })),
  });

export const JudgeUsageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  calls: z.number().int().min(0),
});

export const JudgeResultSchema = z.object({
  model: z.string(),
  seed: z.number().int(),
  /** Conversations sampled per iteration (or from the whole file). */
  samples_per_group: z.number().int().min(1),
  /** sha256 (12 hex) of each prompt file, by file name. */
  prompt_hashes: z.record(z.string(), z.string()),
  ai_detection: GroupedSchema(DetectionSummarySchema)
    .extend({ trials: z.array(DetectionTrialSchema) })
    .nullable(),
  /** Why the detection test did not run (e.g. no reference), when it did not. */
  ai_detection_skipped: z.string().nullable(),
  faithfulness: GroupedSchema(FaithfulnessSummarySchema)
    .extend({ trials: z.array(FaithfulnessTrialSchema) })
    .nullable(),
  usage: JudgeUsageSchema,
});
export type JudgeResult = z.infer<typeof JudgeResultSchema>;

export const EvaluationInputSchema = z.object({
  path: z.string(),
  /** `run` for a run directory, otherwise the file format. */
  kind: z.enum(['run', 'jsonl', 'spc-csv', 'persona-chat', 'parquet']),
  run_id: z.string().nullable(),
  /** What the importer skipped or repaired while reading a file (null for runs and Parquet). */
  /** What importing a dataset file read, repaired and skipped (null for a run directory). */
  import_notes: ImportSummarySchema.nullable(),
});

/** `evaluation.json`. */
export const EvaluationResultSchema = z.object({
  schema_version: z.literal(1),
  created_at: z.string(),
  persona_forge_version: z.string(),
  dataset: EvaluationInputSchema,
  reference: EvaluationInputSchema.nullable(),
  /** How each statistic is defined, in words (so the JSON is self-explanatory). */
  definitions: z.record(z.string(), z.string()),
  statistics: z.object({
    dataset: DatasetStatisticsSchema,
    reference: DatasetStatisticsSchema.nullable(),
    by_iteration: z.array(z.object({ iteration: z.number().int(), statistics: DatasetStatisticsSchema })),
  }),
  judge: JudgeResultSchema.nullable(),
});
export type EvaluationResult = z.infer<typeof EvaluationResultSchema>;
