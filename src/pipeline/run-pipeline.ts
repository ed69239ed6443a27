import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { LlmBackend } from '../llm/llm-backend.ts';
import type { ResponseCache } from '../llm/response-cache.ts';
import { cacheResponses } from '../llm/cache-responses.ts';
import { openFileResponseCache } from '../llm/file-response-cache.ts';
import { computeRoleCost } from '../llm/compute-cost.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import { PoolRecordSchema, type PoolRecord } from '../schemas/conversation.ts';
import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { CandidateRecordSchema } from '../schemas/candidate-record.ts';
import { OutcomeLineSchema, PlannedPairSchema, type OutcomeLine, type PlannedPair } from '../schemas/outcome-line.ts';
import type { IterationSummary, Manifest } from '../schemas/manifest.ts';
import type { Executor } from '../executors/executor.ts';
import { InProcessExecutor } from '../executors/in-process-executor.ts';
import { loadPromptTemplate } from '../generation/load-prompt-template.ts';
import { sampleFewShot } from '../generation/sample-few-shot.ts';
import { loadCritics } from '../critique/load-critics.ts';
import { loadSeedConversations } from '../personas/load-seed-conversations.ts';
import { defaultSeedPaths } from '../personas/load-seed-attributes.ts';
import { openJsonlSink } from '../output/jsonl-sink.ts';
import { readJsonl } from '../output/read-jsonl.ts';
import { writeJsonAtomic } from '../output/write-json-atomic.ts';
import { writeDatasetParquet } from '../output/write-dataset-parquet.ts';
import { buildManifest } from '../output/build-manifest.ts';
import { deriveRandom } from '../util/create-random.ts';
import { runPairJob, type PairJobDeps } from './run-pair-job.ts';
import { planPairs } from './plan-pairs.ts';
import { updatePool } from './update-pool.ts';
import { openRunDirectory, recoverJsonl, RUN_FILES } from './run-directory.ts';
import { emptyIterationSummary, tallyOutcome, totalTokens } from './iteration-tally.ts';
import type { RunProgress } from './run-progress.ts';
import { BudgetGuard } from './budget-guard.ts';
import { finishRun } from './finish-run.ts';

export interface PipelineDeps {
  /** The LLM port; the caller owns it (and disposes it). */
  backend: LlmBackend;
  /** Builds the executor for the run's job function. @defaultValue an InProcessExecutor */
  createExecutor?: (runJob: (job: PairJob) => Promise<PairOutcome>, jobDeps: PairJobDeps) => Executor;
  /** Called after every finished pair. */
  onProgress?: (progress: RunProgress) => void;
  /** Called on notable events (iteration start/end, resume, stop) with a structured record. */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
  /**
   * Where LLM replies are cached. @defaultValue the run directory's `cache/responses.jsonl` when
   * `config.cache.enabled`; pass a Redis store to share it with workers.
   */
  responseCache?: ResponseCache;
  /** Aborting stops admitting new pairs; in-flight pairs finish and are written. */
  signal?: AbortSignal;
  now?: () => Date;
}

export interface RunResult {
  runId: string;
  runDir: string;
  manifest: Manifest;
}

/** Run id from the start time and seed, e.g. `20261122-023100-s1`. */
export function defaultRunId(now: Date, seed: number): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-s${seed}`;
}

/**
 * The coordinator: plans pairs, runs the Generator-Critic iterations through an executor, and is
 * the only writer of run files. Re-running with the same run directory resumes where it stopped:
 * finished pairs are skipped, rows are never duplicated.
 */
export async function runPipeline(config: RunConfig, deps: PipelineDeps): Promise<RunResult> {
  const now = deps.now ?? (() => new Date());
  const emit = deps.onEvent ?? (() => {});
  const startedAt = now();
  const runId = config.run_id ?? defaultRunId(startedAt, config.seed);
  const runDir = await openRunDirectory(resolve(config.out, runId), config);
  const file = runDir.file;

  // Everything that can be wrong with the input is checked before the first LLM call.
  const template = await loadPromptTemplate(config.generation.template);
  const critics = (await loadCritics({ overrideDir: config.critique.critics_dir })).filter((critic) => critic.enabled);
  const seedPool = await loadSeedConversations(config.seeds.conversations ?? defaultSeedPaths().conversations);
  const models = { generator: deps.backend.modelFor('generator'), critic: deps.backend.modelFor('critic') };
  const cache =
    deps.responseCache ?? (config.cache.enabled ? await openFileResponseCache(file('cache/responses.jsonl')) : undefined);
  const backend = cache ? cacheResponses(deps.backend, cache) : deps.backend;

  // Pairs: fixed once, then read back on resume.
  let plan: PlannedPair[];
  if (existsSync(file(RUN_FILES.plan))) {
    plan = await readJsonl(file(RUN_FILES.plan), PlannedPairSchema);
  } else {
    const planned = await planPairs(config, { backend });
    plan = planned.pairs;
    emit('pairs planned', { pairs: plan.length, profile_rejections: planned.rejections });
    await writeJsonl(file(RUN_FILES.plan), plan);
  }

  // Recover what earlier sessions finished. Order of writes per pair is candidates -> row ->
  // outcome, so a row without an outcome was accepted just before a crash: commit it now.
  // Failed pairs (endpoint errors) are dropped here so a resume retries them.
  const outcomes = await recoverJsonl(file(RUN_FILES.outcomes), OutcomeLineSchema, (outcome) => outcome.status !== 'failed');
  const rowsById = new Map(
    (await recoverJsonl(file(RUN_FILES.conversations), DatasetRowSchema)).map((row) => [row.id, row]),
  );
  const doneKeys = new Set(outcomes.map((outcome) => `${outcome.iteration}/${outcome.pair_id}`));
  const orphanRows = [...rowsById.values()].filter((row) => !doneKeys.has(`${row.iteration}/${row.pair_id}`));
  for (const row of orphanRows) {
    const outcome = outcomeFromOrphanRow(row);
    outcomes.push(outcome);
    doneKeys.add(`${row.iteration}/${row.pair_id}`);
  }
  await recoverJsonl(file(RUN_FILES.candidates), CandidateRecordSchema, (record) =>
    doneKeys.has(`${record.iteration}/${record.pair_id}`),
  );
  if (runDir.resumed) emit('resuming', { run_dir: runDir.path, pairs_done: doneKeys.size, pairs_total: plan.length });

  const conversations = await openJsonlSink(file(RUN_FILES.conversations));
  const candidates = await openJsonlSink(file(RUN_FILES.candidates));
  const outcomeSink = await openJsonlSink(file(RUN_FILES.outcomes));
  if (orphanRows.length) await outcomeSink.append(orphanRows.map(outcomeFromOrphanRow));

  const summaries = Array.from({ length: config.iterations }, (_, index) =>
    emptyIterationSummary(index + 1, plan.filter((item) => item.iteration === index + 1).length),
  );
  for (const outcome of outcomes) tallyOutcome(summaries[outcome.iteration - 1], outcome);

  const budget = new BudgetGuard(config.budget, deps.signal);
  budget.add(summaries);
  const jobDeps: PairJobDeps = { backend, critics, template, config, now };
  const runJob = (job: PairJob) => runPairJob(job, jobDeps);
  const executor = deps.createExecutor?.(runJob, jobDeps) ?? new InProcessExecutor(runJob, config.concurrency);

  const manifestInput = {
    runId,
    createdAt: startedAt.toISOString(),
    fingerprint: runDir.fingerprint,
    executor: executor.kind,
    backend: deps.backend.kind,
    models,
    promptHash: template.hash,
    criticHashes: Object.fromEntries(critics.map((critic) => [critic.name, critic.promptHash])),
    iterations: summaries,
  };
  const writeManifest = (status: Manifest['status'], stopReason: string | null = null) =>
    writeJsonAtomic(
      file(RUN_FILES.manifest),
      buildManifest({ ...manifestInput, status, stopReason, finishedAt: status === 'running' ? null : now().toISOString() }),
    );

  const sessionStart = Date.now();
  let sessionDone = 0;
  const totalPairs = plan.length;
  const progress = (iteration: number): RunProgress => {
    const done = summaries.reduce((sum, summary) => sum + summary.done, 0);
    const elapsedMs = Date.now() - sessionStart;
    const remaining = totalPairs - done;
    return {
      iteration,
      iterations: config.iterations,
      done,
      total: totalPairs,
      accepted: summaries.reduce((sum, summary) => sum + summary.accepted, 0),
      rejected: summaries.reduce((sum, summary) => sum + summary.rejected, 0),
      failed: summaries.reduce((sum, summary) => sum + summary.failed, 0),
      tokens: summaries.reduce((sum, summary) => sum + totalTokens(summary.usage), 0),
      costUsd: summaries.reduce((sum, summary) => sum + summary.cost_usd, 0),
      elapsedMs,
      etaMs: sessionDone > 0 ? (elapsedMs / sessionDone) * remaining : null,
    };
  };

  let pool: PoolRecord[] = await loadPoolVersion(file, 0, seedPool);
  let status: Manifest['status'] = 'completed';
  let stopReason: string | null = null;
  try {
    await writeManifest('running');
    for (let iteration = 1; iteration <= config.iterations; iteration++) {
      const summary = summaries[iteration - 1];
      const poolPath = file(RUN_FILES.pool(iteration));
      if (existsSync(poolPath) && summary.done === summary.pairs) {
        pool = await readJsonl(poolPath, PoolRecordSchema);
        continue;
      }
      const iterationStart = Date.now();
      const jobs: PairJob[] = plan
        .filter((item) => item.iteration === iteration && !doneKeys.has(`${iteration}/${item.pair.id}`))
        .map((item) => ({
          run_id: runId,
          iteration,
          pair: item.pair,
          pool_version: iteration - 1,
          few_shot: sampleFewShot(pool, config.generation.few_shot, deriveRandom(config.seed, `few-shot/${iteration}/${item.pair.id}`)),
        }));
      emit('iteration started', { iteration, pairs: summary.pairs, to_do: jobs.length, pool_version: iteration - 1, pool_size: pool.length });

      await executor.run(
        jobs,
        async (outcome) => {
          const line = toOutcomeLine(outcome, config, models);
          await candidates.append(outcome.candidates);
          if (outcome.row) {
            await conversations.append([outcome.row]);
            rowsById.set(outcome.row.id, outcome.row);
          }
          await outcomeSink.append([line]);
          doneKeys.add(`${iteration}/${outcome.pair_id}`);
          tallyOutcome(summary, line);
          budget.add([], line);
          sessionDone += 1;
          deps.onProgress?.(progress(iteration));
        },
        budget.signal,
      );
      summary.duration_ms += Date.now() - iterationStart;

      if (summary.done < summary.pairs) {
        status = budget.exhausted ? 'budget_exhausted' : 'interrupted';
        stopReason = budget.reason ?? 'interrupted before the iteration finished';
        break;
      }
      const winners = [...rowsById.values()]
        .filter((row) => row.iteration === iteration)
        .map((row) => poolRecordFromRow(row));
      pool = updatePool(pool, winners, config.pool.cap);
      summary.pool_size_after = pool.length;
      await writeJsonl(poolPath, pool);
      await writeManifest('running');
      emit('iteration finished', { iteration, accepted: summary.accepted, rejected: summary.rejected, failed: summary.failed, pool_size: pool.length });
    }
  } catch (error) {
    await closeAll([conversations, candidates, outcomeSink, executor, ...(cache && !deps.responseCache ? [cache] : [])]);
    await writeManifest('failed', error instanceof Error ? error.message : String(error));
    throw error;
  }
  await closeAll([conversations, candidates, outcomeSink, executor, ...(cache && !deps.responseCache ? [cache] : [])]);

  const rows = [...rowsById.values()].sort(compareRows);
  await writeDatasetParquet(rows, file(RUN_FILES.parquet));
  await writeManifest(status, stopReason);
  const manifest = buildManifest({ ...manifestInput, status, stopReason, finishedAt: now().toISOString() });
  await finishRun(runDir.path, { emit });
  emit('run finished', { status, accepted: manifest.totals.accepted, run_dir: runDir.path });
  return { runId, runDir: runDir.path, manifest };
}

async function loadPoolVersion(file: (name: string) => string, version: number, seedPool: PoolRecord[]): Promise<PoolRecord[]> {
  const path = file(RUN_FILES.pool(version));
  if (existsSync(path)) return readJsonl(path, PoolRecordSchema);
  await writeJsonl(path, seedPool);
  return seedPool;
}

async function writeJsonl(path: string, records: readonly unknown[]): Promise<void> {
  const temporary = `${path}.${process.pid}.part`;
  const sink = await openJsonlSink(temporary);
  await sink.append(records);
  await sink.close();
  await rename(temporary, path);
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

/** The outcome of a pair whose row was written but whose outcome line was lost to a crash. */
function outcomeFromOrphanRow(row: DatasetRow): OutcomeLine {
  return {
    iteration: row.iteration,
    pair_id: row.pair_id,
    status: 'accepted',
    row_id: row.id,
    candidates: row.lineage.candidates,
    reasons: {},
    error: null,
    usage: {
      generator: { prompt_tokens: row.usage.prompt_tokens, completion_tokens: row.usage.completion_tokens, calls: 0 },
      critic: { prompt_tokens: 0, completion_tokens: 0, calls: 0 },
    },
    cost_usd: row.usage.cost_usd,
    duration_ms: 0,
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

function compareRows(a: DatasetRow, b: DatasetRow): number {
  return a.iteration - b.iteration || a.pair_id.localeCompare(b.pair_id);
}

