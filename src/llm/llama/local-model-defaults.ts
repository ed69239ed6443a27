import type { RunConfigInput } from '../../schemas/run-config.ts';

/**
 * Defaults of a run on the embedded model, sized so that `npx persona-forge run` on the default
 * model (Qwen2.5-0.5B Q4_K_M) finishes in about 10 minutes on 2 CPU cores with at least 10
 * accepted conversations (projection and measurements in bench/RESULTS.md). They sit below the
 * config file, env and flags: any value set there wins. Endpoint runs keep the paper-faithful
 * schema defaults (3 iterations x 10 pairs, 4 candidates, 5 few-shot examples, 12-20 turns).
 *
 * - 2 iterations x 6 pairs: the loop still feeds iteration 1's winners to iteration 2's prompts;
 * - 2 candidates: the selection step still compares; they decode together in one batch;
 * - 2 few-shot examples and 8-12 utterances: shorter prompts and replies (prompt processing and
 *   generation are the whole cost on a CPU);
 * - few-shot examples drawn once per iteration: every generator prompt of an iteration then
 *   starts with the same ~1,000 tokens, evaluated once and copied (prefix reuse);
 * - 450 / 320 output tokens: room for 12 utterances, and for bounded critic replies;
 * - no retry of rejected pairs: a retry doubles a pair's cost;
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
} as const satisfies RunConfigInput;

/** Whether a merged (flags > env > file) config input runs on the embedded model, as `createBackend` decides. */
export function runsOnLocalModel(input: RunConfigInput): boolean {
  const llm = input.llm ?? {};
  if (llm.provider === 'local') return true;
  if (llm.provider === 'openai') return false;
  return llm.base_url === undefined || llm.model_path !== undefined;
}
