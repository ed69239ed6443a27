import { existsSync } from 'node:fs';
import { computeRoleCost } from '../llm/compute-cost.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import { PoolRecordSchema, type PoolRecord } from '../schemas/conversation.ts';
import type { DatasetRow } from '../schemas/dataset-row.ts';
import type { OutcomeLine, PlannedPair } from '../schemas/outcome-line.ts';
import type { Manifest } from '../schemas/manifest.ts';
import { sampleFewShot } from '../generation/sample-few-shot.ts';
import { readJsonl } from '../output/read-jsonl.ts';
import { writeJsonlAtomic } from '../output/write-jsonl-atomic.ts';
import { deriveRandom } from '../util/create-random.ts';
import { countReplyParsing } from '../generation/count-reply-parsing.ts';
import { updatePool } from './update-pool.ts';
import { RUN_FILES } from './run-directory.ts';
import { pairsForQuota } from './target-quotas.ts';
import type { PreparedRun } from './prepare-run.ts';

/** Waves of extra pairs an iteration may plan in `--target` mode before giving up. */
const MAX_TARGET_WAVES = 12;

/** How an iteration ended: with the next pool version, or with the reason the run stops. */
export type IterationEnd =
  | { finished: true; pool: PoolRecord[] }
  | { finished: false; status: Exclude<Manifest['status'], 'running' | 'completed'>; stopReason: string };

/**
 * Runs one Generator-Critic iteration: its planned pairs through the executor (in `--target` mode,
 * in waves of extra pairs until the iteration's quota of accepted conversations is met), each
 * outcome committed to the run state as it comes; then the next pool version from the winners.
 */
export async function runIteration(run: PreparedRun, iteration: number, pool: PoolRecord[]): Promise<IterationEnd> {
  const { config, state, budget, emit } = run;
  const summary = state.summaries[iteration - 1];
  const quota = run.quotas?.[iteration - 1];
  // Stopped before the iteration began (a cap or a signal during planning): nothing of it runs.
  if (budget.signal.aborted) {
    return {
      finished: false,
      status: budget.exhausted ? 'budget_exhausted' : 'interrupted',
      stopReason: budget.reason ?? 'interrupted before the iteration started',
    };
  }
  const startedAt = Date.now();
  emit('iteration started', {
    iteration,
    pool_version: iteration - 1,
    pool_size: pool.length,
    ...(quota ? { target: quota } : {}),
  });

  const waves = await runWaves(run, iteration, quota, pool);
  summary.duration_ms += Date.now() - startedAt;
  if (quota !== undefined) summary.pairs = summary.done;
  if (waves.gaveUp) return { finished: false, status: 'failed', stopReason: waves.gaveUp };

  const finished = quota !== undefined ? summary.accepted >= quota : summary.done >= summary.pairs;
  if (!finished) {
    return {
      finished: false,
      status: budget.exhausted ? 'budget_exhausted' : 'interrupted',
      stopReason: budget.reason ?? 'interrupted before the iteration finished',
    };
  }
  const poolPath = run.runDir.file(RUN_FILES.pool(iteration));
  const next = existsSync(poolPath)
    ? await readJsonl(poolPath, PoolRecordSchema)
    : // Only the best `cap` winners can enter a pool capped at `cap` (they are its newest records).
      updatePool(pool, (await state.topRowsOf(iteration, config.pool.cap)).map(poolRecordFromRow), config.pool.cap);
  summary.pool_size_after = next.length;
  await writeJsonlAtomic(poolPath, next);
  await run.writeManifest('running');
  emit('iteration finished', {
    iteration,
    accepted: summary.accepted,
    rejected: summary.rejected,
    failed: summary.failed,
    pool_size: next.length,
  });
  return { finished: true, pool: next };
}

/**
 * Hands the iteration's unfinished pairs to the executor, wave after wave: without `--target`
 * there is one wave (the planned pairs); with it, more pairs are planned while the quota is unmet,
 * sized by the acceptance rate so far. Returns why it gave up, if it did.
 */
async function runWaves(
  run: PreparedRun,
  iteration: number,
  quota: number | undefined,
  pool: PoolRecord[],
): Promise<{ gaveUp?: string }> {
  const { state, planner, budget, progress } = run;
  const summary = state.summaries[iteration - 1];
  // Streamed from plan.jsonl, each pair checked as it is reached: nothing holds the wave's pairs.
  async function* unfinished(): AsyncGenerator<PlannedPair> {
    for await (const item of planner.pairsOf(iteration)) if (!state.isDone(iteration, item.pair.id)) yield item;
  }
  const anyUnfinished = async () => {
    for await (const _item of unfinished()) return true;
    return false;
  };
  const jobs: AsyncIterable<PairJob> = {
    [Symbol.asyncIterator]: async function* () {
      for await (const item of unfinished()) yield jobFor(run, item, iteration, pool);
    },
  };
  for (let wave = 1; ; wave++) {
    const quotaMet = quota !== undefined && summary.accepted >= quota;
    let hasJobs = !quotaMet && (await anyUnfinished());
    if (!hasJobs && quota !== undefined && !quotaMet) {
      if (wave > MAX_TARGET_WAVES) {
        return {
          gaveUp: `--target: iteration ${iteration} accepted ${summary.accepted} of ${quota} after ${MAX_TARGET_WAVES} waves of pairs; check the critics' rejection reasons`,
        };
      }
      const { done, accepted } = progress.snapshot(iteration);
      const acceptance = done > 0 ? accepted / done : 1;
      await planner.addWave(iteration, pairsForQuota(quota - summary.accepted, acceptance), wave);
      hasJobs = await anyUnfinished();
    }
    if (!hasJobs) return {};

    // In --target mode the wave stops admitting pairs once the share is met.
    const waveController = new AbortController();
    await run.executor.run(
      jobs,
      async (outcome) => {
        // Decided before the first await: outcomes of pairs finishing together may be committed together.
        const surplus = quota !== undefined && outcome.status === 'accepted' && state.acceptedIn(iteration) >= quota;
        await state.commit(outcome, toOutcomeLine(outcome, run.config, run.models), {
          surplus,
          // Runs as this pair is counted, before the next pair of its write: progress goes 1, 2, 3.
          onCommitted: (line) => {
            budget.add([], line);
            if (quota !== undefined && summary.accepted >= quota) waveController.abort();
            progress.pairFinished();
            run.onProgress?.(progress.snapshot(iteration));
          },
        });
      },
      AbortSignal.any([budget.signal, waveController.signal]),
    );
    if (budget.signal.aborted) return {};
  }
}

function jobFor(run: PreparedRun, item: PlannedPair, iteration: number, pool: PoolRecord[]): PairJob {
  return {
    run_id: run.runId,
    iteration,
    pair: item.pair,
    pool_version: iteration - 1,
    // A pair's own seed conversation (seed-pairs mode) is never shown as its example.
    few_shot: sampleFewShot(
      pool.filter((record) => record.id !== item.pair.id),
      run.config.generation.few_shot,
      // Per iteration: one draw for every pair, so their generator prompts share a prefix (local default).
      run.config.generation.few_shot_draw === 'per-iteration'
        ? deriveRandom(run.config.seed, `few-shot/${iteration}`)
        : deriveRandom(run.config.seed, `few-shot/${iteration}/${item.pair.id}`),
    ),
  };
}

function toOutcomeLine(
  outcome: PairOutcome,
  config: RunConfig,
  models: { generator: string; critic: string },
): OutcomeLine {
  return {
    iteration: outcome.iteration,
    pair_id: outcome.pair_id,
    status: outcome.status,
    row_id: outcome.row?.id ?? null,
    candidates: outcome.candidates.length,
    reasons: outcome.reasons,
    error: outcome.error,
    usage: outcome.usage,
    cost_usd: computeRoleCost(config.prices, models, outcome.usage),
    duration_ms: outcome.duration_ms,
    reply_parsing: countReplyParsing(outcome.candidates),
    ...(outcome.few_shot && { few_shot: outcome.few_shot }),
  };
}

function poolRecordFromRow(row: DatasetRow): PoolRecord {
  return {
    id: row.id,
    user1_persona: row.user1_persona,
    user2_persona: row.user2_persona,
    turns: row.turns,
    source: 'generated',
    iteration: row.iteration,
    score: row.scores.copeland ?? 0,
  };
}
