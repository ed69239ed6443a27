import { existsSync } from 'node:fs';
import type { RunConfig } from '../schemas/run-config.ts';
import { PoolRecordSchema, type PoolRecord } from '../schemas/conversation.ts';
import type { Manifest } from '../schemas/manifest.ts';
import { readJsonl } from '../output/read-jsonl.ts';
import { writeJsonlAtomic } from '../output/write-jsonl-atomic.ts';
import { writeDatasetParquet } from '../output/write-dataset-parquet.ts';
import { RUN_FILES } from './run-directory.ts';
import { finishRun } from './finish-run.ts';
import { prepareRun, type PipelineDeps, type PreparedRun } from './prepare-run.ts';
import { runIteration } from './run-iteration.ts';

export { defaultRunId, type PipelineDeps } from './prepare-run.ts';

export interface RunResult {
  runId: string;
  runDir: string;
  manifest: Manifest;
}

/** How the run ends: `completed`, or the status and reason it stopped with. */
interface RunEnding {
  status: Exclude<Manifest['status'], 'running'>;
  stopReason: string | null;
}

/**
 * The coordinator: plans pairs, runs the Generator-Critic iterations through an executor, and is
 * the only writer of run files. Re-running with the same run directory resumes where it stopped:
 * finished pairs are skipped, rows are never duplicated, cached LLM replies are free.
 * Three phases: prepare (inputs, run directory, parts), the iterations, finish (files, manifest).
 */
export async function runPipeline(config: RunConfig, deps: PipelineDeps): Promise<RunResult> {
  const run = await prepareRun(config, deps);
  let ending: RunEnding = { status: 'completed', stopReason: null };
  try {
    await run.writeManifest('running');
    let pool = await loadPoolVersion(run.runDir.file(RUN_FILES.pool(0)), run.seedPool);
    for (let iteration = 1; iteration <= config.iterations; iteration++) {
      const end = await runIteration(run, iteration, pool);
      if (!end.finished) {
        ending = { status: end.status, stopReason: end.stopReason };
        break;
      }
      pool = end.pool;
    }
  } catch (error) {
    await run.state.close().catch(() => {});
    await run.closeParts();
    await run.writeManifest('failed', error instanceof Error ? error.message : String(error));
    throw error;
  }
  return finish(run, ending);
}

/** Writes the dataset's files and the final manifest, then the card and report. */
async function finish(run: PreparedRun, ending: RunEnding): Promise<RunResult> {
  await run.closeParts();
  await writeDatasetParquet(run.state.rows(), run.runDir.file(RUN_FILES.parquet));
  await run.state.close();
  const manifest = await run.writeManifest(ending.status, ending.stopReason);
  await finishRun(run.runDir.path, { emit: run.emit, report: run.config.report });
  run.emit('run finished', { status: ending.status, accepted: manifest.totals.accepted, run_dir: run.runDir.path });
  return { runId: run.runId, runDir: run.runDir.path, manifest };
}

/** Pool version 0: read back on resume, else the seed conversations (written once). */
async function loadPoolVersion(path: string, seedPool: PoolRecord[]): Promise<PoolRecord[]> {
  if (existsSync(path)) return readJsonl(path, PoolRecordSchema);
  await writeJsonlAtomic(path, seedPool);
  return seedPool;
}
