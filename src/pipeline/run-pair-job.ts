import type { LlmBackend } from '../llm/llm-backend.ts';
import { EndpointUnreachableError } from '../errors.ts';
import { recordUsage } from '../llm/record-usage.ts';
import { computeRoleCost } from '../llm/compute-cost.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { CandidateRecord } from '../schemas/candidate-record.ts';
import { DatasetRowSchema, SCHEMA_VERSION, type DatasetRow } from '../schemas/dataset-row.ts';
import { fitGeneratorPrompt } from '../generation/fit-generator-prompt.ts';
import type { FewShotCount } from '../schemas/outcome-line.ts';
import { parseConversation } from '../generation/parse-conversation.ts';
import { critiqueCandidates } from '../critique/critique-candidates.ts';
import { resolveSelection } from '../critique/resolve-selection.ts';
import { COMBINED_PANEL_LINEAGE_KEY } from '../critique/combined-panel-file.ts';
import type { PairJobContext } from '../schemas/run-context.ts';
import { seedFor } from './seed-for.ts';

/** What `runPairJob` needs: the run's context and its LLM stack. */
export interface PairJobDeps extends PairJobContext {
  /** The run's LLM stack (`buildLlmStack`); the job adds its own usage accounting. */
  backend: LlmBackend;
  now?: () => Date;
}

/** Row id: stable for (run, iteration, pair), so a resumed or re-delivered job never duplicates a row. */
const rowId = (job: Pick<PairJob, 'run_id' | 'iteration' | 'pair'>) =>
  `${job.run_id}-it${job.iteration}-${job.pair.id}`;

/**
 * Runs one (iteration, pair) job: generate N candidates, lint, filter, rank, aggregate.
 * Returns an accepted row, a counted rejection with its reasons, or a failure with the error.
 * Transient LLM faults were already retried by the LLM stack (`src/llm/retry-policy.ts`); what
 * still fails becomes a `failed` outcome (retried by `--resume`). Only an unreachable endpoint is
 * thrown: no other pair could succeed either.
 */
export async function runPairJob(job: PairJob, deps: PairJobDeps): Promise<PairOutcome> {
  const started = Date.now();
  const backend = recordUsage(deps.backend);
  const { config } = deps;
  const attempts = config.critique.retry_rejected ? 2 : 1;
  const candidates: CandidateRecord[] = [];
  const reasons: Record<string, number> = {};
  // Few-shot examples planned and shown (fitted to the model's context); set once a prompt is built.
  let fewShot: { count: FewShotCount; ids: string[] } | undefined;
  const base = {
    pair_id: job.pair.id,
    iteration: job.iteration,
  };
  try {
    const { panel } = deps;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const offset = candidates.length;
      const result = await generateAndJudge(job, deps, backend, attempt, offset);
      fewShot = result.fewShot;
      candidates.push(...result.records);
      for (const [critic, count] of Object.entries(result.reasons)) reasons[critic] = (reasons[critic] ?? 0) + count;
      if (result.winnerIndex === null) continue;

      const winner = result.records.find((record) => record.candidate_index === result.winnerIndex)!;
      const models = { generator: backend.modelFor('generator'), critic: backend.modelFor('critic') };
      const usage = backend.usage;
      const row: DatasetRow = DatasetRowSchema.parse({
        id: rowId(job),
        run_id: job.run_id,
        iteration: job.iteration,
        pair_id: job.pair.id,
        user1_persona: job.pair.user1.attributes,
        user2_persona: job.pair.user2.attributes,
        turns: winner.turns,
        scores: result.scores,
        lineage: {
          generator_model: models.generator,
          critic_model: models.critic,
          prompt_hash: deps.template.hash,
          critic_hashes: {
            ...Object.fromEntries(deps.critics.map((critic) => [critic.name, critic.promptHash])),
            ...(panel && { [COMBINED_PANEL_LINEAGE_KEY]: panel.promptHash }),
            ...result.promptHashes,
          },
          selection: result.selection,
          few_shot_ids: result.fewShot.ids,
          few_shot_used: result.fewShot.count.used,
          pool_version: job.pool_version,
          candidate_index: winner.candidate_index,
          candidates: candidates.length,
        },
        usage: {
          prompt_tokens: usage.generator.prompt_tokens + usage.critic.prompt_tokens,
          completion_tokens: usage.generator.completion_tokens + usage.critic.completion_tokens,
          cost_usd: computeRoleCost(config.prices, models, usage),
        },
        created_at: (deps.now ?? (() => new Date()))().toISOString(),
        schema_version: SCHEMA_VERSION,
      });
      return {
        ...base,
        status: 'accepted',
        row,
        candidates,
        reasons,
        error: null,
        usage,
        duration_ms: Date.now() - started,
        few_shot: result.fewShot.count,
      };
    }
    return {
      ...base,
      status: 'rejected',
      row: null,
      candidates,
      reasons,
      error: null,
      usage: backend.usage,
      duration_ms: Date.now() - started,
      ...(fewShot && { few_shot: fewShot.count }),
    };
  } catch (error) {
    if (error instanceof EndpointUnreachableError) throw error;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      ...base,
      status: 'failed',
      row: null,
      candidates,
      reasons,
      error: message,
      usage: backend.usage,
      duration_ms: Date.now() - started,
      ...(fewShot && { few_shot: fewShot.count }),
    };
  }
}

async function generateAndJudge(
  job: PairJob,
  deps: PairJobDeps,
  backend: LlmBackend,
  attempt: number,
  indexOffset: number,
) {
  const { config } = deps;
  // Lowest-ranked examples are dropped until prompt + max output fit the model's context.
  const { messages, examples } = fitGeneratorPrompt(
    deps.template,
    {
      pair: job.pair,
      examples: job.few_shot,
      targetMinTurns: config.generation.target_min_turns,
      targetMaxTurns: config.generation.target_max_turns,
    },
    backend,
    config.llm.max_output_tokens,
  );
  const fewShot = {
    count: { planned: job.few_shot.length, used: examples.length },
    ids: examples.map((record) => record.id),
  };
  const generated = await backend.complete({
    role: 'generator',
    messages,
    temperature: config.llm.temperature,
    topP: config.llm.top_p,
    topK: config.llm.top_k,
    maxOutputTokens: config.llm.max_output_tokens,
    seed: seedFor(config.seed, `generate/${job.run_id}/${job.iteration}/${job.pair.id}/${attempt}`),
    samples: config.candidates,
  });
  const parsed = generated.texts.map((rawText, position) => ({
    index: indexOffset + position,
    rawText,
    ...parseConversation(rawText),
  }));
  const critique = await critiqueCandidates(
    { pair: job.pair, candidates: parsed },
    {
      backend,
      critics: deps.critics,
      panel: deps.panel,
      selection: resolveSelection(config.critique, { batch: config.llm.batch }),
      options: {
        minTurns: config.critique.min_turns,
        maxTurns: config.critique.max_turns,
        temperature: config.llm.critic_temperature,
        maxOutputTokens: config.llm.critic_max_output_tokens,
        seed: seedFor(config.seed, `critique/${job.run_id}/${job.iteration}/${job.pair.id}/${attempt}`),
      },
    },
  );
  const records: CandidateRecord[] = critique.records.map((record) => {
    const candidate = parsed.find((item) => item.index === record.index)!;
    return {
      run_id: job.run_id,
      iteration: job.iteration,
      pair_id: job.pair.id,
      candidate_index: record.index,
      raw_text: candidate.rawText,
      parse_repairs: candidate.repairs,
      ...(candidate.parseError !== undefined && { parse_error: candidate.parseError }),
      turns: candidate.turns,
      filters: record.filters,
      pairwise: record.pairwise,
      copeland: record.copeland,
      status: record.status,
      filtered_by: record.filtered_by,
    };
  });
  return {
    records,
    winnerIndex: critique.winnerIndex,
    reasons: critique.reasons,
    scores: critique.scores,
    selection: critique.selection,
    promptHashes: critique.promptHashes,
    fewShot,
  };
}
