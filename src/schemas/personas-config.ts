import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** Which embedding model places attributes in space (clustering, near-duplicates, redundancy). */
export const EmbedderConfigSchema = z.object({
  /**
   * `lexical` = TF-IDF cosine computed locally (offline, deterministic, no model);
   * `openai` = an OpenAI-compatible `/embeddings` endpoint; `local` = a GGUF embedding model run by
   * node-llama-cpp. @defaultValue 'lexical'
   */
  kind: z.enum(['lexical', 'openai', 'local']).default('lexical'),
  /**
   * Embedding model: the model name for `openai` (default `text-embedding-3-small`), the GGUF file
   * path for `local` (required there). Ignored by `lexical`.
   */
  model: z.string().min(1).optional(),
  /** Base URL of the `/embeddings` endpoint for `openai`. @defaultValue the run's `llm.base_url` */
  base_url: z.string().url().optional(),
  /** Texts per embedding request. @defaultValue 64 */
  batch_size: positiveInt.default(64),
});
export type EmbedderConfig = z.infer<typeof EmbedderConfigSchema>;

/**
 * Stage 1 and 2 of the method (users and pairs): where pairs come from and how profiles are built
 * and matched. Mounted at `RunConfig.personas`.
 */
export const PersonasConfigSchema = z.object({
  /**
   * `synthesize` = build new consistent profiles from attributes and pair them by cluster overlap
   * (SPC part 2); `seed-pairs` = reuse the pairs of the seed dataset in `source` (SPC part 1).
   * @defaultValue 'synthesize'
   */
  mode: z.enum(['synthesize', 'seed-pairs']).default('synthesize'),
  /**
   * Seed dataset file (Persona-Chat ParlAI text, SPC CSV or JSONL; autodetected). Required for
   * `seed-pairs`; in `synthesize` mode its personas are an extra attribute source. @defaultValue none
   */
  source: z.string().min(1).optional(),
  /**
   * Stop (exit 2, naming file:line) at the first record of `source` that cannot be imported, instead
   * of skipping it with a warning and counting it in the import summary. @defaultValue false
   */
  strict: z.boolean().default(false),
  embedder: EmbedderConfigSchema.prefault({}),
  /**
   * Agglomerative clustering (average linkage) merges two clusters while their mean cosine distance
   * (1 − cosine similarity, 0..2) is below this. Lower = more, tighter clusters. @defaultValue 0.8
   */
  cluster_threshold: z.number().gt(0).max(2).default(0.8),
  /** A candidate attribute is redundant when its cosine similarity to a held one is above this. @defaultValue 0.9 */
  redundancy_threshold: z.number().min(0).max(1).default(0.9),
  /**
   * Two profiles are paired when their similarity (cross attribute pairs in the same cluster) is
   * strictly greater than this (paper: 2). @defaultValue 2
   */
  pair_similarity_min: z.number().int().min(0).default(2),
  /** How many pairs one profile may take part in. @defaultValue 2 */
  max_profile_reuse: positiveInt.default(2),
  /** Reject attributes the LLM finds contradicting the profile (checked in both directions). @defaultValue true */
  consistency_check: z.boolean().default(true),
  /**
   * Also ask the LLM to negate each candidate and reject it when a held attribute matches the
   * negation (the paper's negation step). Costs one extra call per candidate. @defaultValue false
   */
  negation_check: z.boolean().default(false),
  /**
   * Profiles built to choose pairs from in `synthesize` mode, per planning call (a run plans in
   * chunks of up to 2,000 pairs). More profiles = more pairs clear the similarity threshold.
   * @defaultValue max(20, 4 × pairs of the call)
   */
  profile_pool: positiveInt.optional(),
  /** Candidate attributes tried per profile before giving up on filling it. @defaultValue 60 */
  max_attempts_per_profile: positiveInt.default(60),
});
export type PersonasConfig = z.infer<typeof PersonasConfigSchema>;
export type PersonasConfigInput = z.input<typeof PersonasConfigSchema>;
