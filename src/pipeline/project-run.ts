import { resolveSelection } from '../critique/resolve-selection.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { ContextLength } from '../schemas/manifest.ts';

/** Speed of an embedded model on this machine, tokens per second. */
export interface LocalModelSpeed {
  /** Prompt processing, one sequence. */
  promptTokensPerSecond: number;
  /** Generation, one sequence alone. */
  generatedTokensPerSecond: number;
  /** Generation of all the candidates of a pair decoding together (one batch), all sequences summed. */
  batchedTokensPerSecond: number;
}

/**
 * Qwen2.5-0.5B (the default model's shape, Q8_0) on 2 idle cores, 2 threads: prompt processing
 * ~190 tokens/s, generation ~19 tokens/s alone and ~25 tokens/s for two sequences in one batch
 * (bench/RESULTS.md, shared/docs/TOOLING.md). Larger models are slower in proportion to their size.
 */
export const DEFAULT_LOCAL_MODEL_SPEED: LocalModelSpeed = {
  promptTokensPerSecond: 190,
  generatedTokensPerSecond: 19,
  batchedTokensPerSecond: 25,
};

/** Tokens of one utterance in a generated conversation (~14 words). */
const TOKENS_PER_UTTERANCE = 20;
/** Tokens of a critic reply with bounded rationales, per candidate judged in the call. */
const CRITIC_REPLY_TOKENS_PER_CANDIDATE = 60;
/** Tokens of a critic prompt besides the conversations: system text, rubric, profiles. */
const CRITIC_FRAME_TOKENS = 700;
/** Tokens of a generator prompt that are the pair's own: instructions after the examples, the two profiles. */
const PAIR_OWN_PROMPT_TOKENS = 250;

export interface RunProjection {
  pairs: number;
  calls: { generator: number; critic: number };
  tokens: { prompt: number; promptEvaluated: number; completion: number };
  /** Wall time; null for endpoints (it depends on the endpoint's speed). */
  durationMs: number | null;
  /**
   * Share of pairs assumed accepted (`--target`: pairs = target ÷ this). 1 = every pair accepted,
   * the fewest pairs a target can take; absent without a target.
   */
  assumedAcceptance?: number;
  /** With `budget.max_tokens`: pairs that fit the token cap, and their wall time (local model). */
  cap?: { pairs: number; durationMs: number | null };
  /** How the projection was made, in one sentence. */
  method: string;
  /** The context length prompts are fitted to and its source, when the caller knows it. */
  contextLength?: ContextLength;
}

const CONTEXT_SOURCE_WORDS: Record<ContextLength['source'], string> = {
  model: 'the model',
  config: 'llm.context_length',
  endpoint: 'the endpoint /models',
  none: 'not published',
};

/** E.g. `context 2,048 tokens (the endpoint /models)`, or `context unknown (not published)`. */
export function formatContextLength(contextLength: ContextLength): string {
  const tokens = contextLength.tokens === null ? 'unknown' : `${contextLength.tokens.toLocaleString('en-US')} tokens`;
  return `context ${tokens} (${CONTEXT_SOURCE_WORDS[contextLength.source]})`;
}

/** One line for the user before the run starts, e.g. `projected: 12 pairs, 36 LLM calls, …, ~9 min`. */
export function formatRunProjection(projection: RunProjection): string {
  const number = (value: number) => value.toLocaleString('en-US');
  const minutes = (ms: number) => `~${Math.max(1, Math.round(ms / 60_000))} min`;
  const acceptance =
    projection.assumedAcceptance === undefined
      ? ''
      : ` at ${Math.round(projection.assumedAcceptance * 100)}% acceptance`;
  const cap = projection.cap
    ? `; at most ${number(projection.cap.pairs)} pairs${projection.cap.durationMs === null ? '' : ` (${minutes(projection.cap.durationMs)})`} within the token cap`
    : '';
  const time = projection.durationMs === null ? acceptance : `, ${minutes(projection.durationMs)}${acceptance}`;
  return (
    `projected: ${number(projection.pairs)} pairs, ${number(projection.calls.generator + projection.calls.critic)} LLM calls, ` +
    `${number(projection.tokens.prompt)} prompt tokens (${number(projection.tokens.promptEvaluated)} evaluated), ` +
    `${number(projection.tokens.completion)} generated${time}${cap}` +
    `${projection.contextLength ? `, ${formatContextLength(projection.contextLength)}` : ''} (${projection.method})`
  );
}

/**
 * Projects a run before it starts, from the config alone: calls and tokens per pair (generator
 * prompt measured by the caller, replies from the target length, critic calls from the selection
 * scheme), times the pairs. On the embedded model, the time is the sum over pairs: pairs in flight
 * share the same cores, so more of them at once does not make the run faster (only the candidates
 * of a pair decode faster together, `batchedTokensPerSecond`); prompt prefixes shared between the
 * candidates are evaluated once. Endpoint runs get no time. An upper bound for pairs rejected
 * once and retried (`critique.retry_rejected`) is not included.
 */
export function projectRun(
  config: RunConfig,
  options: {
    /** Generator prompt tokens of one pair (e.g. `checkGeneratorPromptFits`), or an estimate. */
    generatorPromptTokens: number;
    /** Enabled LLM critics by kind. */
    critics: { filters: number; rankers: number };
    /** The embedded model (time projected) rather than an endpoint. */
    local: boolean;
    speed?: LocalModelSpeed;
    /** Prompt tokens evaluated per pair, when measured (bench); otherwise modelled from the prompt sizes. */
    evaluatedPromptTokensPerPair?: number;
    /** The context length prompts are fitted to, for the summary line. */
    contextLength?: ContextLength;
  },
): RunProjection {
  // A target takes target ÷ acceptance pairs; the projection assumes every pair accepted (the
  // fewest pairs) and says so, since the model's acceptance rate is unknown before the run.
  const assumedAcceptance = config.target !== undefined ? 1 : undefined;
  const pairs = config.target !== undefined ? config.target : config.pairs * config.iterations;
  const candidates = config.candidates;
  const replyTokens = Math.min(
    config.llm.max_output_tokens,
    Math.round(((config.generation.target_min_turns + config.generation.target_max_turns) / 2) * TOKENS_PER_UTTERANCE),
  );
  const scheme = resolveSelection(config.critique);
  const { filters, rankers } = options.critics;
  // Listwise "when-uncertain" asks the second order in most pairs (bench: ~85%); count it (an upper bound).
  const orders = scheme.second_order === 'always' || scheme.method === 'listwise' ? 2 : 1;
  const comparisons =
    scheme.method === 'round-robin' ? (candidates * (candidates - 1)) / 2 : Math.max(0, candidates - 1);
  const filterCalls =
    scheme.filters === 'separate' ? filters * candidates : scheme.filters === 'combined' && filters ? candidates : 0;
  const criticCallsByKind =
    candidates < 2
      ? [{ calls: filterCalls, conversations: 1 }]
      : [
          { calls: filterCalls, conversations: 1 },
          scheme.method === 'listwise'
            ? { calls: orders, conversations: candidates }
            : { calls: comparisons * orders * (scheme.panel === 'per-expert' ? rankers : 1), conversations: 2 },
        ];
  const criticCalls = criticCallsByKind.reduce((sum, kind) => sum + kind.calls, 0);
  const criticPrompt = criticCallsByKind.reduce(
    (sum, kind) => sum + kind.calls * (CRITIC_FRAME_TOKENS + kind.conversations * replyTokens),
    0,
  );
  const criticReply = criticCallsByKind.reduce(
    (sum, kind) => sum + kind.calls * kind.conversations * CRITIC_REPLY_TOKENS_PER_CANDIDATE,
    0,
  );

  const generatorPrompt = options.generatorPromptTokens * candidates;
  // Prefix reuse on the embedded model: the candidates share one evaluation of the generator
  // prompt; with few-shot examples drawn per iteration only the pair's own part (instructions and
  // profiles) is new after the iteration's first pair; critic frames (system text, rubric) are
  // evaluated once per iteration.
  const pairsPerIteration = Math.max(1, Math.round(pairs / config.iterations));
  const generatorEvaluated =
    config.generation.few_shot_draw === 'per-iteration'
      ? Math.min(
          options.generatorPromptTokens,
          PAIR_OWN_PROMPT_TOKENS + options.generatorPromptTokens / pairsPerIteration,
        )
      : options.generatorPromptTokens;
  const criticEvaluated = criticPrompt - criticCalls * CRITIC_FRAME_TOKENS * (1 - 1 / pairsPerIteration);
  const perPair = {
    prompt: generatorPrompt + criticPrompt,
    promptEvaluated:
      options.evaluatedPromptTokensPerPair ??
      (options.local ? generatorEvaluated + criticEvaluated : generatorPrompt + criticPrompt),
    generatorReply: candidates * replyTokens,
    criticReply,
  };
  const speed = options.speed ?? DEFAULT_LOCAL_MODEL_SPEED;
  const pairSeconds =
    perPair.promptEvaluated / speed.promptTokensPerSecond +
    perPair.generatorReply / (candidates > 1 ? speed.batchedTokensPerSecond : speed.generatedTokensPerSecond) +
    perPair.criticReply / speed.generatedTokensPerSecond;
  const tokensPerPair = perPair.prompt + perPair.generatorReply + perPair.criticReply;
  const maxTokens = config.budget.max_tokens;
  const capPairs = maxTokens === undefined ? undefined : Math.floor(maxTokens / tokensPerPair);
  return {
    pairs,
    ...(assumedAcceptance !== undefined && { assumedAcceptance }),
    ...(capPairs !== undefined && {
      cap: { pairs: capPairs, durationMs: options.local ? Math.round(capPairs * pairSeconds * 1000) : null },
    }),
    calls: { generator: pairs, critic: pairs * criticCalls },
    tokens: {
      prompt: pairs * perPair.prompt,
      promptEvaluated: pairs * perPair.promptEvaluated,
      completion: pairs * (perPair.generatorReply + perPair.criticReply),
    },
    durationMs: options.local ? Math.round(pairs * pairSeconds * 1000) : null,
    method:
      (config.target !== undefined
        ? `--target ${config.target}: assumes every pair accepted (${pairs} pairs); each rejected pair adds one more` +
          (capPairs !== undefined
            ? `, up to the ${maxTokens!.toLocaleString('en-US')}-token cap (budget.max_tokens)`
            : '') +
          '; '
        : '') +
      (options.local
        ? `${pairs} pairs one after another on the shared CPU (pairs in flight share the cores); ${candidates} candidate(s) of ~${replyTokens} tokens decoded together; ` +
          `${criticCalls} critic call(s) per pair (${scheme.method}); ${speed.promptTokensPerSecond.toFixed(0)} prompt and ${speed.generatedTokensPerSecond.toFixed(1)} generated tokens/s${config.profiles.contradiction_check ? '; profile planning (contradiction checks) not included' : ''}`
        : `${pairs} pairs; ${candidates} candidate(s) of ~${replyTokens} tokens; ${criticCalls} critic call(s) per pair (${scheme.method}); time depends on the endpoint`),
    ...(options.contextLength && { contextLength: options.contextLength }),
  };
}
