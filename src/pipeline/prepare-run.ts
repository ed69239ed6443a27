import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LlmBackend } from '../llm/llm-backend.ts';
import { buildLlmStack, type LlmStores } from '../llm/build-llm-stack.ts';
import { faultToleranceFor } from '../llm/fault-tolerance.ts';
import { openFileResponseCache } from '../llm/file-response-cache.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PoolRecord } from '../schemas/conversation.ts';
import type { Manifest } from '../schemas/manifest.ts';
import { COMBINED_PANEL_LINEAGE_KEY } from '../critique/combined-panel-file.ts';
import { selectionPromptHashes } from '../critique/selection-prompt-hashes.ts';
import { writeJsonAtomic } from '../output/write-json-atomic.ts';
import { buildManifest } from '../output/build-manifest.ts';
import { summarizeBatches } from '../llm/batch/summarize-batches.ts';
import { batchStateFile } from '../llm/batch/create-batching-connection.ts';
import type { Executor, ExecutorFactory } from './executor.ts';
import { checkRunInputs } from './check-run-inputs.ts';
import { InProcessExecutor } from './in-process-executor.ts';
import { createPairJobRunner } from './pair-job-runner.ts';
import { PairPlanner } from './pair-planner.ts';
import { trackProgress } from './track-progress.ts';
import type { RunProgress } from './run-progress.ts';
import { openRunDirectory, RUN_FILES, type RunDirectory } from './run-directory.ts';
import { RunState } from './run-state.ts';
import { BudgetGuard } from './budget-guard.ts';
import { targetQuotas } from './target-quotas.ts';

export interface PipelineDeps {
  /** The LLM adapter; the pipeline wraps it in the LLM stack (`buildLlmStack`). The caller owns (and disposes) it. */
  backend: LlmBackend;
  /**
   * Stores of the LLM stack. @defaultValue the run directory's `cache/responses.jsonl` when
   * `config.cache.enabled`, and no shared rate limits; the BullMQ coordinator passes the Redis ones
   * it shares with its workers.
   */
  stores?: LlmStores;
  /** Builds the executor from the run's pair-job runner. @defaultValue an `InProcessExecutor` */
  createExecutor?: ExecutorFactory;
  /** Called after every finished pair. */
  onProgress?: (progress: RunProgress) => void;
  /** Called on notable events (iteration start/end, resume, stop) with a structured record. */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
  /** Aborting stops admitting new pairs; in-flight pairs finish and are written. */
  signal?: AbortSignal;
  /**
   * Runs after the run's input files are checked, before prompts are fitted to the model's context
   * and before the run directory is created: checks that must pass before anything is written (the
   * CLI probes the endpoint here). An adapter it returns replaces `backend` for the run (the CLI
   * returns the endpoint's adapter with the context length its `GET /models` entry publishes).
   * @defaultValue none
   */
  beforeRunDirectory?: () => Promise<LlmBackend | void>;
  now?: () => Date;
}

type Emit = (event: string, fields: Record<string, unknown>) => void;

/** A run with every input checked, its directory open and its parts built: what the iterations use. */
export interface PreparedRun {
  config: RunConfig;
  runId: string;
  runDir: RunDirectory;
  /** Seed conversations: pool version 0 on a fresh run. */
  seedPool: PoolRecord[];
  models: { generator: string; critic: string };
  planner: PairPlanner;
  state: RunState;
  budget: BudgetGuard;
  /** Accepted conversations wanted per iteration (`--target`), else undefined. */
  quotas: number[] | undefined;
  executor: Executor;
  progress: ReturnType<typeof trackProgress>;
  emit: Emit;
  onProgress: ((progress: RunProgress) => void) | undefined;
  now: () => Date;
  /** Writes `manifest.json` from the current iteration summaries. */
  writeManifest(status: Manifest['status'], stopReason?: string | null): Promise<Manifest>;
  /** Closes what the run opened (executor, planner, its own response cache); the run state is closed by the caller. */
  closeParts(): Promise<void>;
}

/**
 * Run id from the start time and seed plus a random suffix, e.g. `20261122-023100-s1-4f2a`, so two
 * runs started in the same second never share (and silently resume) one directory.
 */
export function defaultRunId(now: Date, seed: number): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-s${seed}-${randomBytes(2).toString('hex')}`;
}

/**
 * Checks every input before the first LLM call (`checkRunInputs`), then opens (or resumes) the run
 * directory and builds the run's parts: the LLM stack, the pair plan, the run state, the budget
 * guard, the pair-job runner and the executor.
 */
export async function prepareRun(config: RunConfig, deps: PipelineDeps): Promise<PreparedRun> {
  const now = deps.now ?? (() => new Date());
  const emit = deps.onEvent ?? (() => {});
  const startedAt = now();
  const runId = config.run_id ?? defaultRunId(startedAt, config.seed);

  const {
    context,
    seedPool,
    personasImport,
    models,
    backend: adapter,
    contextLength,
  } = await checkRunInputs(config, deps.backend, emit, deps.beforeRunDirectory);
  // The run directory is created only once every input is known to be good.
  const runDir = await openRunDirectory(resolve(config.out, runId), config);
  const file = runDir.file;

  const ownCache =
    config.cache.enabled && !deps.stores?.responseCache
      ? await openFileResponseCache(file('cache/responses.jsonl'))
      : undefined;
  const backend = buildLlmStack({
    adapter,
    maxInFlight: config.llm.max_in_flight,
    faultTolerance: faultToleranceFor(config.llm, adapter.kind),
    rateLimiter: deps.stores?.rateLimiter,
    responseCache: config.cache.enabled ? (deps.stores?.responseCache ?? ownCache) : undefined,
  });

  const budget = new BudgetGuard(config.budget, deps.signal);
  const planner = await PairPlanner.open({ plan: file(RUN_FILES.plan), manifest: file(RUN_FILES.manifest) }, config, {
    backend,
    models,
    emit,
    signal: deps.signal,
    budget,
  });
  const state = await RunState.open(runDir, config.iterations);
  const { summaries } = state;
  const quotas = config.target === undefined ? undefined : targetQuotas(config.target, config.iterations);
  if (runDir.resumed)
    emit('resuming', { run_dir: runDir.path, pairs_done: state.finishedPairs, pairs_planned: planner.size });
  for (const summary of summaries) {
    summary.pairs = quotas ? summary.done : planner.countOf(summary.iteration);
  }
  // Planning (this session's and earlier ones') was charged by the planner as it went.
  budget.add(summaries);

  const runner = createPairJobRunner(context, backend, now);
  const executor =
    deps.createExecutor?.(runner) ?? new InProcessExecutor((job) => runner.runJob(job), config.concurrency);
  state.commitLingerMs = executor.commitLingerMs ?? 0;

  const manifestInput = {
    runId,
    createdAt: startedAt.toISOString(),
    fingerprint: runDir.fingerprint,
    executor: executor.kind,
    backend: adapter.kind,
    models,
    promptHash: context.template.hash,
    criticHashes: {
      ...Object.fromEntries(context.critics.map((critic) => [critic.name, critic.promptHash])),
      ...(context.panel && { [COMBINED_PANEL_LINEAGE_KEY]: context.panel.promptHash }),
      ...(await selectionPromptHashes(config.critique)),
    },
    iterations: summaries,
    planning: planner.planning,
    personasImport,
    contextLength,
  };

  return {
    config,
    runId,
    runDir,
    seedPool,
    models,
    planner,
    state,
    budget,
    quotas,
    executor,
    progress: trackProgress({
      summaries,
      iterations: config.iterations,
      plannedPairs: () => planner.size,
      target: config.target,
      planning: planner.planning,
    }),
    emit,
    onProgress: deps.onProgress,
    now,
    async writeManifest(status, stopReason = null) {
      const manifest = buildManifest({
        ...manifestInput,
        status,
        stopReason,
        finishedAt: status === 'running' ? null : now().toISOString(),
      });
      if (config.llm.batch) {
        const pricing = { prices: config.prices, models, usage: manifest.totals.usage };
        manifest.batches = await summarizeBatches(batchStateFile({ out: config.out, run_id: runId }), pricing);
      }
      await writeJsonAtomic(file(RUN_FILES.manifest), manifest);
      return manifest;
    },
    async closeParts() {
      for (const closable of [planner, executor, ...(ownCache ? [ownCache] : [])])
        await closable.close().catch(() => {});
    },
  };
}
