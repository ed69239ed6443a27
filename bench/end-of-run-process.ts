/**
 * Child process of the scale benchmark: on an existing run directory, does one phase of what a
 * run does after its last pair (or on resume), and prints one JSON line with its time and memory:
 * - `resume`: `RunState.open` (what `--resume` reads back before any pair runs);
 * - `pool`: the pool update (the best `pool.cap` rows of the last iteration, streamed);
 * - `parquet`: `dataset.parquet` from `conversations.jsonl`, streamed in row groups;
 * - `finish`: the dataset card and `report.html`;
 * - `end-of-run`: pool, Parquet and finish in a row;
 * - `coordinator`: on a directory holding only `plan.jsonl`, what the coordinator holds while a
 *   run's pairs go through it: the planner (`PairPlanner.open`), the run state, and every planned
 *   pair of iteration 1 handed to the in-process executor as a job (512 in flight) and committed
 *   as a rejected outcome at once (no LLM: the jobs' own work happens in workers or the backend);
 * - `planning`: in an empty directory, `PairPlanner.open` plans `[pairs]` pairs (one iteration,
 *   simple profiles, no contradiction checks: no LLM call), as a fresh run does before any pair.
 * One phase per process, so no phase runs in memory another one left committed. Memory is the
 * peak RSS of the phase (Linux `VmHWM`, reset through `/proc/self/clear_refs` when the phase
 * starts) minus the RSS at its start, after a full GC (run with --expose-gc).
 *
 * Usage: node --expose-gc --import tsx bench/end-of-run-process.ts <run dir> <phase> [iterations | pairs (planning)]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunState } from '../src/pipeline/run-state.ts';
import { updatePool } from '../src/pipeline/update-pool.ts';
import { writeDatasetParquet } from '../src/output/write-dataset-parquet.ts';
import { finishRun } from '../src/pipeline/finish-run.ts';
import { PairPlanner } from '../src/pipeline/pair-planner.ts';
import { InProcessExecutor } from '../src/pipeline/in-process-executor.ts';
import { OpenAiCompatibleBackend } from '../src/llm/openai/openai-compatible-backend.ts';
import { RunConfigSchema } from '../src/schemas/run-config.ts';
import type { PairJob } from '../src/schemas/pair-job.ts';
import type { PairOutcome } from '../src/schemas/pair-outcome.ts';
import { emptyUsageByRole } from '../src/schemas/usage.ts';

export interface PhaseReading {
  ms: number;
  /** CPU time of the phase (user + system), in ms: less sensitive to the machine's load than `ms`. */
  cpuMs: number;
  /** Peak RSS during the phase minus RSS at its start (after a full GC), in MB. */
  peakGrowthMb: number;
  startRssMb: number;
  /** V8 heap in use after a full GC at the phase's end minus at its start, in MB: what the phase still holds. */
  retainedHeapMb: number;
  /** `coordinator` only: the most V8 heap in use (after a full GC, every 10,000 pairs and at the end) over its start, in MB. */
  liveHeapMb?: number;
}

const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

function status(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? (Number(match[1]) * 1024) / MB : Number.NaN;
}

async function phase(run: () => Promise<void>): Promise<PhaseReading> {
  gc?.();
  const startRssMb = status('VmRSS');
  writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const startHeap = process.memoryUsage().heapUsed;
  await run();
  const cpu = process.cpuUsage(cpuBefore);
  const ms = performance.now() - started;
  const peakGrowthMb = status('VmHWM') - startRssMb;
  gc?.();
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakGrowthMb,
    startRssMb,
    retainedHeapMb: (process.memoryUsage().heapUsed - startHeap) / MB,
  };
}

/** Phases measured; `end-of-run` is pool, Parquet and finish together, as a run does them. */
export type EndOfRunPhase = 'resume' | 'pool' | 'parquet' | 'finish' | 'end-of-run' | 'coordinator' | 'planning';

/** A fresh run's planning of `pairs` pairs; see the file's comment. */
async function runPlanning(runDir: string, pairs: number): Promise<{ planned: number }> {
  const config = RunConfigSchema.parse({
    out: runDir,
    run_id: 'scale',
    pairs,
    iterations: 1,
    profiles: { contradiction_check: false },
  });
  // Never called: without contradiction checks, planning sends no request.
  const backend = new OpenAiCompatibleBackend({
    baseUrl: 'http://127.0.0.1:9/v1',
    generatorModel: 'unused',
    criticModel: 'unused',
  });
  const planner = await PairPlanner.open(
    { plan: join(runDir, 'plan.jsonl'), manifest: join(runDir, 'manifest.json') },
    config,
    { backend, models: { generator: 'unused', critic: 'unused' }, emit: () => {} },
  );
  await planner.close();
  await backend.dispose();
  return { planned: planner.size };
}

/** Every planned pair of iteration 1 through the real planner, run state and in-process executor; see the file's comment. */
async function runCoordinator(runDir: string): Promise<{ jobs: number; liveHeapMb: number }> {
  // Live heap (after a full GC) every 10,000 outcomes and at the end: what the coordinator holds.
  gc?.();
  const heapAtStart = process.memoryUsage().heapUsed;
  let liveHeapMb = 0;
  const sampleLiveHeap = () => {
    gc?.();
    liveHeapMb = Math.max(liveHeapMb, (process.memoryUsage().heapUsed - heapAtStart) / MB);
  };
  const runDirectory = { path: runDir, file: (name: string) => join(runDir, name), resumed: false, fingerprint: '' };
  const config = RunConfigSchema.parse({
    out: runDir,
    run_id: 'scale',
    pairs: 1,
    profiles: { contradiction_check: false },
  });
  // Never called: the plan is on disk already, so nothing is planned.
  const backend = new OpenAiCompatibleBackend({
    baseUrl: 'http://127.0.0.1:9/v1',
    generatorModel: 'unused',
    criticModel: 'unused',
  });
  const planner = await PairPlanner.open(
    { plan: runDirectory.file('plan.jsonl'), manifest: runDirectory.file('manifest.json') },
    config,
    { backend, models: { generator: 'unused', critic: 'unused' }, emit: () => {} },
  );
  const state = await RunState.open(runDirectory, 1);
  state.commitLingerMs = 100;
  const jobs: AsyncIterable<PairJob> = {
    async *[Symbol.asyncIterator]() {
      for await (const item of planner.pairsOf(1)) {
        if (!state.isDone(1, item.pair.id))
          yield { run_id: 'scale', iteration: 1, pair: item.pair, pool_version: 0, few_shot: [] };
      }
    },
  };
  let count = 0;
  const outcomeOf = (job: PairJob): PairOutcome => ({
    pair_id: job.pair.id,
    iteration: job.iteration,
    status: 'rejected',
    row: null,
    candidates: [],
    reasons: { coherence: 2 },
    error: null,
    usage: emptyUsageByRole(),
    duration_ms: 1,
  });
  await new InProcessExecutor(async (job) => outcomeOf(job), 512).run(jobs, async (outcome) => {
    if (++count % 10_000 === 0) sampleLiveHeap();
    await state.commit(outcome, {
      iteration: outcome.iteration,
      pair_id: outcome.pair_id,
      status: outcome.status,
      row_id: null,
      candidates: 0,
      reasons: outcome.reasons,
      error: null,
      usage: outcome.usage,
      cost_usd: 0,
      duration_ms: outcome.duration_ms,
    });
  });
  sampleLiveHeap();
  await state.close();
  await planner.close();
  await backend.dispose();
  return { jobs: count, liveHeapMb };
}

async function main(): Promise<void> {
  const [runDir, phaseName, iterationsText] = process.argv.slice(2) as [string, EndOfRunPhase, string | undefined];
  const iterations = Number(iterationsText ?? 1);
  const runDirectory = { path: runDir, file: (name: string) => join(runDir, name), resumed: true, fingerprint: '' };
  const open = () => RunState.open(runDirectory, iterations);
  const pool = async (state: RunState) => {
    const top = await state.topRowsOf(iterations, 200);
    updatePool(
      [],
      top.map((row) => ({ ...row, source: 'generated' as const, score: row.scores.copeland ?? 0 })),
      200,
    );
  };
  const parquet = async (state: RunState) => {
    await writeDatasetParquet(state.rows(), join(runDir, 'dataset.parquet'));
    await state.close();
  };
  const finish = () => finishRun(runDir, { emit: () => {} });
  let reading: PhaseReading;
  if (phaseName === 'resume') {
    let state: RunState | undefined;
    reading = await phase(async () => {
      state = await open();
    });
    await state!.close();
  } else if (phaseName === 'finish') {
    reading = await phase(finish);
  } else if (phaseName === 'planning') {
    let planning = { planned: 0 };
    reading = await phase(async () => {
      planning = await runPlanning(runDir, iterations);
    });
    process.stdout.write(`${JSON.stringify({ phase: phaseName, ...planning, ...reading })}\n`);
    return;
  } else if (phaseName === 'coordinator') {
    let coordinator = { jobs: 0, liveHeapMb: 0 };
    reading = await phase(async () => {
      coordinator = await runCoordinator(runDir);
    });
    process.stdout.write(`${JSON.stringify({ phase: phaseName, ...coordinator, ...reading })}\n`);
    return;
  } else {
    const state = await open();
    reading = await phase(async () => {
      if (phaseName === 'pool' || phaseName === 'end-of-run') await pool(state);
      if (phaseName === 'parquet' || phaseName === 'end-of-run') await parquet(state);
      if (phaseName === 'end-of-run') await finish();
    });
    if (phaseName === 'pool') await state.close();
  }
  process.stdout.write(`${JSON.stringify({ phase: phaseName, ...reading })}\n`);
}

await main();
