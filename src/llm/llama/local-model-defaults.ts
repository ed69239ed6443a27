import type { RunConfigInput } from '../../schemas/run-config.ts';

/**
 * Defaults of a run on the embedded model, sized for `npx persona-forge run` on the default model
 * (Qwen2.5-0.5B Q4_K_M) on 2 CPU cores (projection and measurements in bench/RESULTS.md). They sit
 * below the config file, env and flags: any value set there wins. Endpoint runs keep the
 * paper-faithful schema defaults (3 iterations x 10 pairs, 4 candidates, 5 few-shot examples,
 * 12-20 turns, contradiction check on).
 *
 * - 2 iterations: the loop still feeds iteration 1's winners to iteration 2's prompts; 6 pairs each
 *   when `pairs` is given without a target (see `localModelDefaultsFor` for the target);
 * - 2 candidates: the selection step still compares; they decode together in one batch;
 * - 2 few-shot examples and 8-12 utterances: shorter prompts and replies (prompt processing and
 *   generation are the whole cost on a CPU);
 * - few-shot examples drawn once per iteration: every generator prompt of an iteration then
 *   starts with the same ~1,000 tokens, evaluated once and copied (prefix reuse);
 * - 450 / 320 output tokens: room for 12 utterances, and for bounded critic replies;
 * - no retry of rejected pairs: a retry doubles a pair's cost;
 * - no LLM contradiction check while planning profiles: profiles already take one attribute per
 *   category (two jobs, two diets never meet), and the check of the 24 profiles of 12 pairs is
 *   ~100 checks in ~12 calls of ~2,200 prompt and up to 1,280 reply tokens: ~5 minutes on the
 *   default model at 19 generated tokens/s, half the time budget (on the shaped bench model 3
 *   calls took 5 minutes under load); `profiles.contradiction_check: true` turns it back on;
 * - 2 pairs in flight: they share the cores anyway; two keep the batch full while one waits.
 */
export const LOCAL_MODEL_DEFAULTS = {
  iterations: 2,
  pairs: 6,
  candidates: 2,
  concurrency: 2,
  generation: { few_shot: 2, few_shot_draw: 'per-iteration', target_min_turns: 8, target_max_turns: 12 },
  llm: { max_output_tokens: 450, critic_max_output_tokens: 320 },
  critique: { min_turns: 6, retry_rejected: false },
  profiles: { contradiction_check: false },
} as const satisfies RunConfigInput;

/**
 * Accepted conversations the embedded model's run asks for when neither `pairs` nor `target` is
 * given: `--target 10` (exactly 10 accepted, 5 per iteration; pairs beyond the first 10 are
 * planned from the acceptance rate observed so far).
 */
export const LOCAL_MODEL_TARGET = 10;

/**
 * Token cap (prompt + reply, all roles) that goes with `LOCAL_MODEL_TARGET`, sized to ~10 minutes on
 * the default model on 2 cores: ~14 pairs of the projected ~6,250 tokens each at the reference
 * speeds (`DEFAULT_LOCAL_MODEL_SPEED`), and ~22 pairs of a model whose every pair is rejected at
 * parsing with both replies at their 450-token cap (~4,100 tokens each, nearly all generated: the
 * bench's random-weights model). A model that accepts fewer than ~71% of its pairs stops there
 * (exit 3, `budget_exhausted`, with the `--resume … --max-tokens <higher>` line) instead of
 * planning ever more pairs.
 */
export const LOCAL_MODEL_MAX_TOKENS = 90_000;

/**
 * The embedded model's defaults for a merged (flags > env > file) config input: `LOCAL_MODEL_DEFAULTS`,
 * plus `target: LOCAL_MODEL_TARGET` and `budget.max_tokens: LOCAL_MODEL_MAX_TOKENS` when the input
 * sets neither `pairs` nor `target` (a `--pairs` of the user's keeps its meaning: that many pairs).
 */
export function localModelDefaultsFor(input: RunConfigInput): RunConfigInput {
  if (input.pairs !== undefined || input.target !== undefined) return LOCAL_MODEL_DEFAULTS;
  return { ...LOCAL_MODEL_DEFAULTS, target: LOCAL_MODEL_TARGET, budget: { max_tokens: LOCAL_MODEL_MAX_TOKENS } };
}

/** Whether a merged (flags > env > file) config input runs on the embedded model, as `createBackend` decides. */
export function runsOnLocalModel(input: RunConfigInput): boolean {
  const llm = input.llm ?? {};
  if (llm.provider === 'local') return true;
  if (llm.provider === 'openai') return false;
  return llm.base_url === undefined || llm.model_path !== undefined;
}
