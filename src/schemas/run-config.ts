import { z } from 'zod';
import { PriceTableSchema } from './price-table.ts';
import { EmbedderConfigSchema, PersonasConfigSchema } from './personas-config.ts';
import { FilterModeSchema, SecondOrderSchema, SelectionMethodSchema } from './selection.ts';

const positiveInt = z.number().int().positive();

/** Settings of the LLM endpoint(s). Secrets (`api_key`) are never written to run files. */
export const LlmConfigSchema = z.strictObject({
  /** `openai` = any OpenAI-compatible endpoint; `local` = embedded llama.cpp model; `auto` picks. */
  provider: z.enum(['auto', 'openai', 'local']).default('auto'),
  /** Base URL of an OpenAI-compatible endpoint, e.g. `http://127.0.0.1:8000/v1`. */
  base_url: z.string().url().optional(),
  /** API key; read from `OPENAI_API_KEY` when not given. Never logged or persisted. */
  api_key: z.string().optional(),
  /** Generator model name. */
  model: z.string().min(1).default('gpt-4o-mini'),
  /** Critic model name; defaults to `model`. */
  critic_model: z.string().min(1).optional(),
  /** Local GGUF model file (local provider). */
  model_path: z.string().optional(),
  /** Sampling temperature of the generator (paper: 0.7). Critics use `critic_temperature`. */
  temperature: z.number().min(0).max(2).default(0.7),
  /** Critic temperature: 0 for repeatable verdicts. */
  critic_temperature: z.number().min(0).max(2).default(0),
  top_p: z.number().gt(0).max(1).default(0.95),
  /** Top-k (paper: 40); sent only to backends that support it. */
  top_k: positiveInt.default(40),
  /** Maximum output tokens of a generator reply. */
  max_output_tokens: positiveInt.default(1200),
  /** Maximum output tokens of a critic reply. */
  critic_max_output_tokens: positiveInt.default(400),
  /** Request timeout in milliseconds. */
  timeout_ms: positiveInt.default(120_000),
  /**
   * Retries of one request after a transient fault: 408/409/429/5xx, timeouts, hangs, connection
   * resets, bodies cut off or not JSON (0.5 s · 2ⁿ backoff up to 8 s, Retry-After honoured up to
   * 60 s; the policy is in src/llm/retry-policy.ts).
   */
  max_retries: z.number().int().min(0).default(10),
  /**
   * Hedge requests to an OpenAI-compatible endpoint that run past 2 × the p95 latency of their
   * role and model (at least 1 s, at most `timeout_ms`): a second copy is sent, the first answer wins.
   */
  hedge: z.boolean().default(true),
  /** `n` samples in one call: `auto` tries it and falls back to separate calls. */
  samples_mode: z.enum(['auto', 'n', 'separate']).default('auto'),
  /** Structured output: `auto` tries json_schema, then json_object, then prompted JSON. */
  structured_mode: z.enum(['auto', 'json_schema', 'json_object', 'prompt']).default('auto'),
  /** LLM requests in flight at once, across all pair jobs of this process. */
  max_in_flight: positiveInt.default(8),
  /**
   * `--batch`: send the chat completions through the OpenAI Batch API (50% off, results within
   * 24 h); batch ids are kept in `<run>/batches.jsonl` so a restart re-attaches. @defaultValue false
   */
  batch: z.boolean().optional(),
  /** Time between two polls of a pending batch, in milliseconds. @defaultValue 30000 */
  batch_poll_interval_ms: positiveInt.optional(),
  /** Requests arriving within this many milliseconds of each other share a batch. @defaultValue 2000 */
  batch_quiet_window_ms: positiveInt.optional(),
  /** Context window of the local model in tokens (prompt + reply per sequence). @defaultValue 8192 */
  context_size: positiveInt.optional(),
  /**
   * Context length of the endpoint's model in tokens (prompt + reply). When set, generator prompts
   * are fitted to it (fewer few-shot examples), counted with the project's token estimate. The
   * embedded model uses its own context (`context_size`). @defaultValue unset: no fitting
   */
  context_length: positiveInt.optional(),
  /** Threads for the local model (default: physical cores). */
  threads: positiveInt.optional(),
});
export type LlmConfig = z.infer<typeof LlmConfigSchema>;

/** A complete, validated run configuration. Precedence: flags > env > config file > defaults. */
export const RunConfigSchema = z.strictObject({
  /** Root directory for run directories. */
  out: z.string().default('output'),
  /** Run id (directory name); generated from time and seed when absent. */
  run_id: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
  /** Seed for every random choice (sampling profiles, pairs, few-shot examples, LLM seed). */
  seed: z.number().int().min(0).max(4_294_967_295).default(1),
  /** Generator-Critic iterations (paper: 3), at most 100. */
  iterations: positiveInt.max(100).default(3),
  /** Pairs per iteration, at most 1,000,000. */
  pairs: positiveInt.max(1_000_000).default(10),
  /**
   * Exactly this many accepted conversations in all (split evenly over the iterations): pairs are
   * over-generated from the observed acceptance rate until each iteration's share is met, and
   * `pairs` is ignored. Conversations accepted beyond a share go to `surplus.jsonl`.
   */
  target: positiveInt.max(10_000_000).optional(),
  /** Candidates generated per pair (N). */
  candidates: positiveInt.max(16).default(4),
  /** Pair jobs processed at once (and the LLM request concurrency limit), at most 1024. */
  concurrency: positiveInt.max(1024).default(4),
  llm: LlmConfigSchema.prefault({}),
  seeds: z
    .strictObject({
      /** Seed attributes file (JSONL); default: the built-in `seeds/attributes.jsonl`. */
      attributes: z.string().optional(),
      /** Seed conversations file (JSONL pool records); default: `seeds/conversations.jsonl`. */
      conversations: z.string().optional(),
    })
    .prefault({}),
  /**
   * Where pairs come from. `simple` (default): random consistent profiles from the seed
   * attributes, paired at random. `synthesize`: the paper's stage 1+2 (embeddings, clusters,
   * consistent profiles, pairing by cluster overlap). `seed-pairs`: the pairs of `source`.
   * The contradiction check is switched by `profiles.contradiction_check` in every mode.
   */
  personas: PersonasConfigSchema.omit({ consistency_check: true, mode: true })
    .extend({
      mode: z.enum(['simple', 'synthesize', 'seed-pairs']).default('simple'),
      /** As in `PersonasConfigSchema`; unknown keys are errors here too. */
      embedder: EmbedderConfigSchema.strict().prefault({}),
      /** With `source`: its conversations start the few-shot pool instead of `seeds.conversations`. */
      pool_from_source: z.boolean().default(true),
    })
    .strict()
    .prefault({}),
  profiles: z
    .strictObject({
      /** Attributes per synthesized profile. */
      attributes_per_profile: positiveInt.max(10).default(5),
      /** Ask the critic model whether a new attribute contradicts the profile. */
      contradiction_check: z.boolean().default(true),
      /** Contradiction checks allowed per profile before the run stops with an explanation. */
      max_contradiction_checks: positiveInt.default(30),
      /**
       * Contradiction checks asked in one call (profiles are built this many at a time); 1 = one
       * check per call, as before. @defaultValue 8 (`DEFAULT_CONTRADICTION_BATCH`; absent so
       * existing fingerprints are unchanged)
       */
      contradiction_batch: positiveInt.max(32).optional(),
      /** Lexical near-duplicate threshold (token Jaccard) for attributes within a profile. */
      near_duplicate_threshold: z.number().min(0).max(1).default(0.6),
    })
    .prefault({}),
  generation: z
    .strictObject({
      /** Prompt template file; default: the built-in `src/generation/generator-prompt.md`. */
      template: z.string().optional(),
      /** Few-shot examples per prompt (paper: 5). */
      few_shot: z.number().int().min(0).default(5),
      /**
       * `per-pair` (the paper): each prompt draws its own examples. `per-iteration`: every pair of an
       * iteration shows the same examples, so on the embedded model all generator prompts of an
       * iteration share one evaluated prefix (its default). @defaultValue 'per-pair' (absent)
       */
      few_shot_draw: z.enum(['per-pair', 'per-iteration']).optional(),
      /** Target length in utterances, stated in the instruction. */
      target_min_turns: positiveInt.default(12),
      target_max_turns: positiveInt.default(20),
    })
    .prefault({}),
  critique: z
    .strictObject({
      /** Extra critics directory: its files add to or replace the built-in `critics/`. */
      critics_dir: z.string().optional(),
      /** Lint bounds on utterance count. */
      min_turns: positiveInt.default(6),
      max_turns: positiveInt.default(60),
      /** Retry a pair whose candidates were all filtered once with fresh samples. */
      retry_rejected: z.boolean().default(true),
      /**
       * How the pairwise rankers are asked. `per-expert` (the paper): one call per ranker per
       * candidate pair and order. `combined`: one call per candidate pair and order judges every
       * ranker's dimension and returns one verdict per dimension (`critics/panel/combined.md`);
       * far fewer calls, same aggregation. @defaultValue 'per-expert' (absent, so the config
       * fingerprint of existing runs is unchanged)
       */
      panel: z.enum(['per-expert', 'combined']).optional(),
      /**
       * How the best candidate is chosen: `round-robin` (the paper), `knockout` or `listwise`
       * (`src/schemas/selection.ts`). @defaultValue resolved by `resolveSelection`: the bench-chosen
       * economy scheme (README, "Selection schemes"); absent so existing fingerprints are unchanged
       */
      selection: SelectionMethodSchema.optional(),
      /** `always` (the paper) or `when-uncertain`. @defaultValue per `selection` (`resolveSelection`) */
      second_order: SecondOrderSchema.optional(),
      /** `separate` (the paper), `folded` into the listwise call, or `combined` (one call per candidate). @defaultValue per `selection` (`resolveSelection`) */
      filters: FilterModeSchema.optional(),
    })
    .superRefine((critique, context) => {
      // Without `selection` the default method applies (`resolveSelection` checks that case).
      const method = critique.selection ?? (critique.panel !== undefined ? 'round-robin' : undefined);
      if (critique.filters === 'folded' && method !== undefined && method !== 'listwise') {
        context.addIssue({
          code: 'custom',
          path: ['filters'],
          message: `"folded" needs critique.selection "listwise" (got "${method}"); use "separate" or --selection listwise`,
        });
      }
    })
    .prefault({}),
  /** Prices per model (USD per million tokens) for cost accounting; unlisted models cost 0. */
  prices: PriceTableSchema.default({}),
  budget: z
    .strictObject({
      /** Stop admitting work once the run has cost this much (USD). */
      max_cost_usd: z.number().positive().optional(),
      /** Stop admitting work once the run has used this many tokens (all roles). */
      max_tokens: positiveInt.optional(),
    })
    .prefault({}),
  /** Write `report.html` at the end of a run (the dataset card is always written). */
  report: z.boolean().default(true),
  cache: z
    .strictObject({
      /** Store every LLM reply so a resumed or repeated run never pays for a finished call. */
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  pool: z
    .strictObject({
      /** Maximum few-shot pool size (keeps the best and the newest). */
      cap: positiveInt.default(200),
    })
    .prefault({}),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;
/** The shape accepted from config files and flags before defaults are applied. */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
