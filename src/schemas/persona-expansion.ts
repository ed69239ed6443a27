import { z } from 'zod';
import { ImportSummarySchema } from './import-summary.ts';

/** Reply of query induction (schema name `persona_query_induction`): the question a cluster answers. */
export const QueryInductionReplySchema = z.object({
  /** One short question the sample attributes answer, e.g. "What is your job?". */
  question: z.string().trim().min(3),
});
export type QueryInductionReply = z.infer<typeof QueryInductionReplySchema>;

/** Reply of query bootstrapping (schema name `persona_query_bootstrap`): new questions. */
export const QueryBootstrapReplySchema = z.object({
  /** New questions about a person, different from the ones shown. */
  questions: z.array(z.string().trim().min(3)).min(1).max(20),
});
export type QueryBootstrapReply = z.infer<typeof QueryBootstrapReplySchema>;

/** Reply of persona bootstrapping (schema name `persona_bootstrap`): one new attribute. */
export const PersonaBootstrapReplySchema = z.object({
  /** One short first-person sentence starting with "I" or "My" that answers the question. */
  attribute: z.string().trim().min(3),
});
export type PersonaBootstrapReply = z.infer<typeof PersonaBootstrapReplySchema>;

/** Reply of the negation step (schema name `attribute_negation`). */
export const NegationReplySchema = z.object({
  /** The statement's negation, first person ("I love dogs." -> "I do not love dogs."). */
  negation: z.string().trim().min(1),
});
export type NegationReply = z.infer<typeof NegationReplySchema>;

/** Reply of the entailment check of the negation step (schema name `entailment_check`). */
export const EntailmentReplySchema = z.object({
  rationale: z.string(),
  /** True when the premise statements make the hypothesis (almost) certainly true. */
  entails: z.boolean(),
});
export type EntailmentReply = z.infer<typeof EntailmentReplySchema>;

/**
 * A line of `<out>.queries.jsonl`, the expansion's progress log beside the attributes file:
 * `cluster` = a seed cluster and the question induced for it; `query-step` = one query
 * bootstrapping step and the new questions (clusters) it produced, possibly none.
 */
export const ExpansionQueryRecordSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('cluster'),
    cluster: z.string().min(1),
    query: z.string().min(1),
    /** Ids of the seed attributes in the cluster. */
    members: z.array(z.string().min(1)).min(1),
  }),
  z.object({
    kind: z.literal('query-step'),
    step: z.number().int().min(0),
    queries: z.array(z.object({ cluster: z.string().min(1), query: z.string().min(1) })),
  }),
]);
export type ExpansionQueryRecord = z.infer<typeof ExpansionQueryRecordSchema>;

/** The paper's Table 1 numbers for one attribute set. */
export const AttributeSetStatsSchema = z.object({
  attributes: z.number().int().min(0),
  clusters: z.number().int().min(0),
  /** Mean cosine distance between cluster centroids, over all cluster pairs (0 with < 2 clusters). */
  mean_inter_cluster_distance: z.number(),
  /** Mean attribute length in whitespace-separated tokens. */
  mean_length_tokens: z.number(),
});
export type AttributeSetStats = z.infer<typeof AttributeSetStatsSchema>;

/** `<out>.stats.json`: expansion statistics, seeds vs the expanded set, and what was rejected. */
export const ExpansionStatsSchema = z.object({
  seed: AttributeSetStatsSchema,
  expanded: AttributeSetStatsSchema,
  queries: z.object({ induced: z.number().int().min(0), bootstrapped: z.number().int().min(0) }),
  /** Rejections of this session (a resumed run counts from the restart). */
  rejected: z.object({
    /** Persona candidates too similar (cosine > threshold) to an existing attribute. */
    near_duplicate: z.number().int().min(0),
    /** Persona candidates not a short first-person sentence starting with "I" or "My". */
    malformed: z.number().int().min(0),
    /** Bootstrapped questions that repeated a known question. */
    duplicate_query: z.number().int().min(0),
    /** LLM replies that failed the schema even after a repair. */
    invalid_reply: z.number().int().min(0),
  }),
  /** Embedder kind used for clustering and duplicates (numbers are only comparable for the same one). */
  embedder: z.string(),
  cluster_threshold: z.number(),
  /** False when the run stopped (abort or attempts exhausted) before reaching the target. */
  complete: z.boolean(),
  target: z.number().int().min(0),
  /** What reading `--seeds` imported, repaired and skipped (absent when seeds were passed in directly). */
  import: ImportSummarySchema.optional(),
});
export type ExpansionStats = z.infer<typeof ExpansionStatsSchema>;

/** Where the pairs of a run came from and how well they cover the attributes (Stage 2 report). */
export const PersonasReportSchema = z.object({
  mode: z.enum(['synthesize', 'seed-pairs']),
  pairs: z.number().int().min(0),
  /** Pairs that cleared the similarity threshold / pairs added at random as a fallback. */
  cluster_pairs: z.number().int().min(0),
  random_pairs: z.number().int().min(0),
  profiles: z.number().int().min(0),
  /** Candidate attributes rejected while building profiles, by reason. */
  rejections: z.record(z.string(), z.number().int().min(0)),
  coverage: z.object({
    /** Distinct attributes in paired profiles / attributes available. */
    attributes_used: z.number().int().min(0),
    attributes_available: z.number().int().min(0),
    clusters_used: z.number().int().min(0),
    clusters_available: z.number().int().min(0),
    /** Histogram: number of pairs a profile is in -> how many profiles. */
    pairs_per_profile: z.record(z.string(), z.number().int().min(0)),
    /** Histogram: pair similarity -> how many pairs. */
    similarity: z.record(z.string(), z.number().int().min(0)),
  }),
  /** Human-readable notes (fallbacks, skipped records, shortfalls). */
  notes: z.array(z.string()),
  /** What reading the attribute source (`profiles`) or `personas.source` (runs) imported, repaired and skipped. */
  import: ImportSummarySchema.optional(),
});
export type PersonasReport = z.infer<typeof PersonasReportSchema>;
