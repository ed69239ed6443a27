/**
 * One benchmark coordinator: a child process (forked by `bench/processes.ts`) that runs
 * `runPipeline` once, in process or on BullMQ workers, and reports CPU time, memory samples and
 * timings over IPC. A fresh process per run keeps CPU and peak RSS figures clean.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadRunConfig } from '../src/config/load-run-config.ts';
import { runPipeline, type PipelineDeps } from '../src/pipeline/run-pipeline.ts';
import { OpenAiCompatibleBackend } from '../src/llm/openai/openai-compatible-backend.ts';
import { writeDatasetParquet } from '../src/output/write-dataset-parquet.ts';
import type { DatasetRow } from '../src/schemas/dataset-row.ts';
import type { RunConfigInput } from '../src/schemas/run-config.ts';
import { addLlmFaults, emptyLlmFaults, type LlmFaults } from '../src/schemas/llm-faults.ts';
import { readRunQueueWaitMs } from './read-run-queue-wait-ms.ts';

export interface CoordinatorSpec {
  /** The run config (flags layer; defaults fill the rest). */
  config: RunConfigInput;
  executor: 'in-process' | 'bullmq';
  /** Redis URL for `bullmq`. */
  redisUrl?: string;
  /** Accepted-conversation counts at which to sample memory (after a full GC). */
  memoryCheckpoints?: number[];
  /** Time a Parquet export of the finished run's rows (the run's own writer, separately). */
  timeParquetExport?: boolean;
  /** Return the winning candidate index of every accepted pair (read from `conversations.jsonl`). */
  collectWinners?: boolean;
  /** Delete the run directory at the end. */
  cleanUp?: boolean;
}

export interface MemorySample {
  accepted: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

export interface CoordinatorResult {
  wallMs: number;
  /** CPU of this process over the whole `runPipeline` call (planning, jobs, files, Parquet, card, report). */
  cpuMs: number;
  /** CPU from the first iteration start to the last finished pair. */
  iterationCpuMs: number;
  iterationWallMs: number;
  /** Time this process's main thread was runnable but waited for a CPU during the iteration phase. */
  iterationRunQueueWaitMs: number;
  /** Last finished pair to `runPipeline` returning (pool, Parquet, manifest, card, report). */
  finishWallMs: number;
  memory: MemorySample[];
  /** Peak RSS of this process (getrusage maxrss), MB. */
  peakRssMb: number;
  /** Peak RSS while pairs ran (sampled after every 20th finished pair and the last), MB. */
  peakRssDuringJobsMb: number;
  parquetExportMs: number | null;
  totals: { pairs: number; accepted: number; rejected: number; failed: number };
  /** Retries by cause, hedges and abandoned copies, both roles, planning included (manifest totals). */
  faults: LlmFaults;
  /** LLM calls and tokens as the run recorded them (from outcomes). */
  usage: { generatorCalls: number; criticCalls: number; promptTokens: number; completionTokens: number };
  /** Pair id -> winning candidate index (with `collectWinners`). */
  winners: Record<string, number> | null;
  runDir: string;
}

/** IPC messages to the parent: a memory checkpoint (so it can read the workers at the same moment), then the result. */
export type CoordinatorMessage =
  | { type: 'checkpoint'; sample: MemorySample }
  | { type: 'result'; result: CoordinatorResult }
  | { type: 'error'; error: string };

const mb = (bytes: number) => bytes / 1024 / 1024;

async function runCoordinator(spec: CoordinatorSpec): Promise<CoordinatorResult> {
  const config = await loadRunConfig({ flags: spec.config });
  const inner = new OpenAiCompatibleBackend({
    baseUrl: config.llm.base_url!,
    generatorModel: config.llm.model,
    criticModel: config.llm.critic_model ?? config.llm.model,
    timeoutMs: config.llm.timeout_ms,
    samplesMode: config.llm.samples_mode,
    structuredMode: config.llm.structured_mode,
  });
  // runPipeline wraps the adapter in the LLM stack (concurrency limit, shared limits, cache).
  const deps: PipelineDeps = { backend: inner };
  let closeScaleOut = async () => {};
  if (spec.executor === 'bullmq') {
    const { openBullMqCoordinator } = await import('../src/executors/bullmq-coordinator.ts');
    const coordinator = await openBullMqCoordinator({ redisUrl: spec.redisUrl! });
    Object.assign(deps, { stores: coordinator.storesFor(config), createExecutor: coordinator.createExecutor });
    closeScaleOut = () => coordinator.close();
  }

  const checkpoints = [...(spec.memoryCheckpoints ?? [])].sort((a, b) => a - b);
  const memory: MemorySample[] = [];
  let peakRssDuringJobs = 0;
  let iterationStart: { wall: number; cpu: NodeJS.CpuUsage; waitMs: number } | undefined;
  let lastPair = { wall: 0, cpu: process.cpuUsage(), waitMs: 0 };
  const gc = (globalThis as { gc?: () => void }).gc;

  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await runPipeline(config, {
    ...deps,
    onEvent: (event) => {
      if (event === 'iteration started' && !iterationStart)
        iterationStart = { wall: performance.now(), cpu: process.cpuUsage(), waitMs: readRunQueueWaitMs('self') };
    },
    onProgress: (progress) => {
      // The /proc reads cost ~50 µs, charged to the run's CPU: every 20th pair and the last one.
      const sampled = progress.done % 20 === 0 || progress.done >= progress.total;
      lastPair = {
        wall: performance.now(),
        cpu: process.cpuUsage(),
        waitMs: sampled ? readRunQueueWaitMs('self') : lastPair.waitMs,
      };
      if (sampled) {
        const rss = process.memoryUsage.rss();
        if (rss > peakRssDuringJobs) peakRssDuringJobs = rss;
      }
      while (checkpoints.length && progress.accepted >= checkpoints[0]) {
        checkpoints.shift();
        gc?.();
        const usage = process.memoryUsage();
        const sample = {
          accepted: progress.accepted,
          rssMb: mb(usage.rss),
          heapUsedMb: mb(usage.heapUsed),
          externalMb: mb(usage.external + usage.arrayBuffers),
        };
        memory.push(sample);
        process.send!({ type: 'checkpoint', sample } satisfies CoordinatorMessage);
      }
    },
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  await closeScaleOut();
  await inner.dispose();

  let parquetExportMs: number | null = null;
  if (spec.timeParquetExport) {
    const exportStart = performance.now();
    await writeDatasetParquet(
      readRows(join(result.runDir, 'conversations.jsonl')),
      join(result.runDir, 'bench-export.parquet'),
    );
    parquetExportMs = performance.now() - exportStart;
  }
  const iterationCpu = iterationStart ? cpuDiff(lastPair.cpu, iterationStart.cpu) : 0;
  const usage = { generatorCalls: 0, criticCalls: 0, promptTokens: 0, completionTokens: 0 };
  for (const summary of result.manifest.iterations) {
    usage.generatorCalls += summary.usage.generator.calls;
    usage.criticCalls += summary.usage.critic.calls;
    usage.promptTokens += summary.usage.generator.prompt_tokens + summary.usage.critic.prompt_tokens;
    usage.completionTokens += summary.usage.generator.completion_tokens + summary.usage.critic.completion_tokens;
  }
  const totals = result.manifest.totals;
  let winners: Record<string, number> | null = null;
  if (spec.collectWinners) {
    winners = {};
    for await (const row of readRows(join(result.runDir, 'conversations.jsonl')))
      winners[row.pair_id] = row.lineage.candidate_index;
  }
  if (spec.cleanUp) await rm(result.runDir, { recursive: true, force: true });
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    iterationCpuMs: iterationCpu,
    iterationWallMs: iterationStart ? lastPair.wall - iterationStart.wall : 0,
    iterationRunQueueWaitMs: iterationStart ? lastPair.waitMs - iterationStart.waitMs : 0,
    finishWallMs: started + wallMs - lastPair.wall,
    memory,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakRssDuringJobsMb: mb(peakRssDuringJobs),
    parquetExportMs,
    totals: { pairs: totals.pairs, accepted: totals.accepted, rejected: totals.rejected, failed: totals.failed },
    faults: addLlmFaults(addLlmFaults(emptyLlmFaults(), totals.usage.generator.faults), totals.usage.critic.faults)!,
    usage,
    winners,
    runDir: result.runDir,
  };
}

function cpuDiff(later: NodeJS.CpuUsage, earlier: NodeJS.CpuUsage): number {
  return (later.user - earlier.user + later.system - earlier.system) / 1000;
}

async function* readRows(path: string): AsyncGenerator<DatasetRow> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield JSON.parse(line) as DatasetRow;
}

process.once('message', (spec: CoordinatorSpec) => {
  runCoordinator(spec).then(
    (result) => process.send!({ type: 'result', result } satisfies CoordinatorMessage, () => process.exit(0)),
    (error: unknown) =>
      process.send!(
        {
          type: 'error',
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies CoordinatorMessage,
        () => process.exit(1),
      ),
  );
});
