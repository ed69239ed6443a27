/**
 * Child process of the scale benchmark: on an existing run directory, does one phase of what a
 * run does after its last pair (or on resume), and prints one JSON line with its time and memory:
 * - `resume`: `RunState.open` (what `--resume` reads back before any pair runs);
 * - `pool`: the pool update (the best `pool.cap` rows of the last iteration, streamed);
 * - `parquet`: `dataset.parquet` from `conversations.jsonl`, streamed in row groups;
 * - `finish`: the dataset card and `report.html`;
 * - `end-of-run`: pool, Parquet and finish in a row.
 * One phase per process, so no phase runs in memory another one left committed. Memory is the
 * peak RSS of the phase (Linux `VmHWM`, reset through `/proc/self/clear_refs` when the phase
 * starts) minus the RSS at its start, after a full GC (run with --expose-gc).
 *
 * Usage: node --expose-gc --import tsx bench/end-of-run-process.ts <run dir> <phase> [iterations]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunState } from '../src/pipeline/run-state.ts';
import { updatePool } from '../src/pipeline/update-pool.ts';
import { writeDatasetParquet } from '../src/output/write-dataset-parquet.ts';
import { finishRun } from '../src/pipeline/finish-run.ts';

export interface PhaseReading {
  ms: number;
  /** CPU time of the phase (user + system), in ms: less sensitive to the machine's load than `ms`. */
  cpuMs: number;
  /** Peak RSS during the phase minus RSS at its start (after a full GC), in MB. */
  peakGrowthMb: number;
  startRssMb: number;
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
  await run();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ms: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakGrowthMb: status('VmHWM') - startRssMb,
    startRssMb,
  };
}

/** Phases measured; `end-of-run` is pool, Parquet and finish together, as a run does them. */
export type EndOfRunPhase = 'resume' | 'pool' | 'parquet' | 'finish' | 'end-of-run';

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
