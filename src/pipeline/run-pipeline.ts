import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LlmBackend } from '../llm/llm-backend.ts';
import type { ResponseCache } from '../llm/response-cache.ts';
import { cacheResponses } from '../llm/cache-responses.ts';
import { openFileResponseCache } from '../llm/file-response-cache.ts';
import { computeRoleCost } from '../llm/compute-cost.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import { PoolRecordSchema, type PoolRecord } from '../schemas/conversation.ts';
import type { DatasetRow } from '../schemas/dataset-row.ts';
import type { OutcomeLine, PlannedPair } from '../schemas/outcome-line.ts';
import type { Manifest } from '../schemas/manifest.ts';
import type { Executor } from '../executors/executor.ts';
import { InProcessExecutor } from '../executors/in-process-executor.ts';
import { loadPromptTemplate } from '../generation/load-prompt-template.ts';
import { sampleFewShot } from '../generation/sample-few-shot.ts';
import { loadCritics } from '../critique/load-critics.ts';
import { COMBINED_PANEL_LINEAGE_KEY, loadCombinedPanel } from '../critique/combined-panel-file.ts';
import { loadSeedConversations } from '../personas/load-seed-conversations.ts';
import { defaultSeedPaths, loadSeedAttributes } from '../personas/load-seed-attributes.ts';
import { importDataset } from '../personas/importers/import-dataset.ts';
import { readJsonl } from '../output/read-jsonl.ts';
import { writeJsonAtomic } from '../output/write-json-atomic.ts';
import { writeJsonlAtomic } from '../output/write-jsonl-atomic.ts';
import { writeDatasetParquet } from '../output/write-dataset-parquet.ts';
import { buildManifest } from '../output/build-manifest.ts';
import { deriveRandom } from '../util/create-random.ts';
import { runPairJob, type PairJobDeps } from './run-pair-job.ts';
import { PairPlanner } from './pair-planner.ts';
import { trackProgress } from './track-progress.ts';
import type { RunProgress } from './run-progress.ts';
import { updatePool } from './update-pool.ts';
import { openRunDirectory, RUN_FILES } from './run-directory.ts';
import { RunState } from './run-state.ts';
import { BudgetGuard } from './budget-guard.ts';
import { finishRun } from './finish-run.ts';
import { targetQuotas, pairsForQuota } from './target-quotas.ts';

export interface PipelineDeps {
  /** The LLM port; the caller owns it (and disposes it). */
  backend: LlmBackend;
  /** Builds the executor for the run's job function. @defaultValue an InProcessExecutor */
  createExecutor?: (runJob: (job: PairJob) => Promise<PairOutcome>, jobDeps: PairJobDeps) => Executor;
  /**
   * Where LLM replies are cached. @defaultValue the run directory's `cache/responses.jsonl` when
   * `config.cache.enabled`; pass a Redis store to share it with workers.
   */
  responseCache?: ResponseCache;
  /** Called after every finished pair. */
  onProgress?: (progress: RunProgress) => void;
  /** Called on notable events (iteration start/end, resume, stop) with a structured record. */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
  /** Aborting stops admitting new pairs; in-flight pairs finish and are written. */
  signal?: AbortSignal;
  now?: () => Date;
}

export interface RunResult {
  runId: string;
  runDir: string;
  manifest: Manifest;
}

/**
 * Run id from the start time and seed plus a random suffix, e.g. `20261122-023100-s1-4f2a`, so two
 * runs started in the same second never share (and silently resume) one directory.
 */
export function defaultRunId(now: Date, seed: number): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-s${seed}-${randomBytes(2).toString('hex')}`;
}

/** Waves of extra pairs an iteration may plan in `--target` mode before giving up. */
const MAX_TARGET_WAVES = 12;

/**
 * The coordinator: plans pairs, runs the Generator-Critic iterations through an executor, and is
 * the only writer of run files. Re-running with the same run directory resumes where it stopped:
 * finished pairs are skipped, rows are never duplicated, cached LLM replies are free.
 */
export async function runPipeline(config: RunConfig, deps: PipelineDeps): Promise<RunResult> {
  const now = deps.now ?? (() => new Date());
  const emit = deps.onEvent ?? (() => {});
  const startedAt = now();
  const runId = config.run_id ?? defaultRunId(startedAt, config.seed);

  // Everything that can be wrong with the input is checked before the first LLM call.
  const template = await loadPromptTemplate(config.generation.template);
  const critics = (await loadCritics({ overrideDir: config.critique.critics_dir })).filter((critic) => critic.enabled);
  const panel = config.critique.panel === 'combined' ? await loadCombinedPanel() : undefined;
  const seedPool =
    config.personas.source && config.personas.pool_from_source
      ? (await importDataset(config.personas.source)).conversations
      : await loadSeedConversations(config.seeds.conversations ?? defaultSeedPaths().conversations);
  if (config.personas.mode !== 'seed-pairs') await loadSeedAttributes(config.seeds.attributes ?? defaultSeedPaths().attributes);
  const models = { generator: deps.backend.modelFor('generator'), critic: deps.backend.modelFor('critic') };
  // The run directory is created only once every input is known to be good.
  const runDir = await openRunDirectory(resolve(config.out, runId), config);
  const file = runDir.file;

  const ownCache = deps.responseCache ? undefined : config.cache.enabled ? await openFileResponseCache(file('cache/responses.jsonl')) : undefined;
  const cache = deps.responseCache ?? ownCache;
  const backend = cache ? cacheResponses(deps.backend, cache) : deps.backend;

  const planner = await PairPlanner.open({ plan: file(RUN_FILES.plan), manifest: file(RUN_FILES.manifest) }, config, {
    backend,
    models,
    emit,
    signal: deps.signal,
  });
  const { planning } = planner;

  const state = await RunState.open(runDir, config.iterations);
  const { summaries } = state;
  const plannedIn = (iteration: number) => planner.pairsOf(iteration);
  const quotas = config.target === undefined ? undefined : targetQuotas(config.target, config.iterations);
  if (runDir.resumed) emit('resuming', { run_dir: runDir.path, pairs_done: state.finishedPairs, pairs_planned: planner.size });

  for (const summary of summaries) {
    summary.pairs = quotas ? summary.done : plannedIn(summary.iteration).length;
  }
  const budget = new BudgetGuard(config.budget, deps.signal);
  budget.add(summaries, undefined, planning);
  const jobDeps: PairJobDeps = { backend, critics, template, config, now, panel };
  const runJob = (job: PairJob) => runPairJob(job, jobDeps);
  const executor = deps.createExecutor?.(runJob, jobDeps) ?? new InProcessExecutor(runJob, config.concurrency);
  state.commitLingerMs = executor.commitLingerMs ?? 0;

  const manifestInput = {
    runId,
    createdAt: startedAt.toISOString(),
    fingerprint: runDir.fingerprint,
    executor: executor.kind,
    backend: deps.backend.kind,
    models,
    promptHash: template.hash,
    criticHashes: {
      ...Object.fromEntries(critics.map((critic) => [critic.name, critic.promptHash])),
      ...(panel && { [COMBINED_PANEL_LINEAGE_KEY]: panel.promptHash }),
    },
    iterations: summaries,
    planning,
  };
  const writeManifest = (status: Manifest['status'], stopReason: string | null = null) =>
    writeJsonAtomic(
      file(RUN_FILES.manifest),
      buildManifest({ ...manifestInput, status, stopReason, finishedAt: status === 'running' ? null : now().toISOString() }),
    );

  const progress = trackProgress({ summaries, iterations: config.iterations, plannedPairs: () => planner.size, target: config.target });

  let pool: PoolRecord[] = await loadPoolVersion(file(RUN_FILES.pool(0)), seedPool);
  let status: Manifest['status'] = 'completed';
  let stopReason: string | null = null;
  try {
    await writeManifest('running');
    for (let iteration = 1; iteration <= config.iterations && status === 'completed'; iteration++) {
      const summary = summaries[iteration - 1];
      const quota = quotas?.[iteration - 1];
      const poolPath = file(RUN_FILES.pool(iteration));
      const iterationStart = Date.now();
      emit('iteration started', { iteration, pool_version: iteration - 1, pool_size: pool.length, ...(quota ? { target: quota } : {}) });

      for (let wave = 1; ; wave++) {
        const quotaMet = quota !== undefined && summary.accepted >= quota;
        let jobs = quotaMet ? [] : plannedIn(iteration).filter((item) => !state.isDone(iteration, item.pair.id));
        if (jobs.length === 0 && quota !== undefined && !quotaMet) {
          if (wave > MAX_TARGET_WAVES) {
            status = 'failed';
            stopReason = `--target: iteration ${iteration} accepted ${summary.accepted} of ${quota} after ${MAX_TARGET_WAVES} waves of pairs; check the critics' rejection reasons`;
            break;
          }
          const { done, accepted } = progress.snapshot(iteration);
          const acceptance = done > 0 ? accepted / done : 1;
          await planner.addWave(iteration, pairsForQuota(quota - summary.accepted, acceptance), wave);
          jobs = plannedIn(iteration).filter((item) => !state.isDone(iteration, item.pair.id));
        }
        if (jobs.length === 0) break;

        // In --target mode the wave stops admitting pairs once the share is met.
        const waveController = new AbortController();
        await executor.run(
          jobs.map((item) => jobFor(item, iteration, pool)),
          async (outcome) => {
            // Decided before the first await: outcomes of pairs finishing together may be committed together.
            const surplus = quota !== undefined && outcome.status === 'accepted' && state.acceptedIn(iteration) >= quota;
            await state.commit(outcome, toOutcomeLine(outcome, config, models), {
              surplus,
              // Runs as this pair is counted, before the next pair of its write: progress goes 1, 2, 3.
              onCommitted: (line) => {
                budget.add([], line);
                if (quota !== undefined && summary.accepted >= quota) waveController.abort();
                progress.pairFinished();
                deps.onProgress?.(progress.snapshot(iteration));
              },
            });
          },
          AbortSignal.any([budget.signal, waveController.signal]),
        );
        if (budget.signal.aborted) break;
      }
      summary.duration_ms += Date.now() - iterationStart;
      if (quota !== undefined) summary.pairs = summary.done;

      const finished = quota !== undefined ? summary.accepted >= quota : summary.done >= summary.pairs;
      if (!finished) {
        if (status === 'completed') {
          status = budget.exhausted ? 'budget_exhausted' : 'interrupted';
          stopReason = budget.reason ?? 'interrupted before the iteration finished';
        }
        break;
      }
      pool = existsSync(poolPath) ? await readJsonl(poolPath, PoolRecordSchema) : // Only the best `cap` winners can enter a pool capped at `cap` (they are its newest records).
        updatePool(pool, (await state.topRowsOf(iteration, config.pool.cap)).map(poolRecordFromRow), config.pool.cap);
      summary.pool_size_after = pool.length;
      await writeJsonlAtomic(poolPath, pool);
      await writeManifest('running');
      emit('iteration finished', { iteration, accepted: summary.accepted, rejected: summary.rejected, failed: summary.failed, pool_size: pool.length });
    }
  } catch (error) {
    await closeAll([state, planner, executor, ...(ownCache ? [ownCache] : [])]);
    await writeManifest('failed', error instanceof Error ? error.message : String(error));
    throw error;
  }
  await closeAll([planner, executor, ...(ownCache ? [ownCache] : [])]);
  await writeDatasetParquet(state.rows(), file(RUN_FILES.parquet));
  await state.close();

  await writeManifest(status, stopReason);
  const manifest = buildManifest({ ...manifestInput, status, stopReason, finishedAt: now().toISOString() });
  await finishRun(runDir.path, { emit, report: config.report });
  emit('run finished', { status, accepted: manifest.totals.accepted, run_dir: runDir.path });
  return { runId, runDir: runDir.path, manifest };

  function jobFor(item: PlannedPair, iteration: number, currentPool: PoolRecord[]): PairJob {
    return {
      run_id: runId,
      iteration,
      pair: item.pair,
      pool_version: iteration - 1,
      // A pair's own seed conversation (seed-pairs mode) is never shown as its example.
      few_shot: sampleFewShot(
        currentPool.filter((record) => record.id !== item.pair.id),
        config.generation.few_shot,
        deriveRandom(config.seed, `few-shot/${iteration}/${item.pair.id}`),
      ),
    };
  }
}

async function loadPoolVersion(path: string, seedPool: PoolRecord[]): Promise<PoolRecord[]> {
  if (existsSync(path)) return readJsonl(path, PoolRecordSchema);
  await writeJsonlAtomic(path, seedPool);
  return seedPool;
}

async function closeAll(closables: Array<{ close(): Promise<void> }>) {
  for (const closable of closables) await closable.close().catch(() => {});
}

function toOutcomeLine(outcome: PairOutcome, config: RunConfig, models: { generator: string; critic: string }): OutcomeLine {
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
