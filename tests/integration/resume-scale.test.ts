import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunState } from '../../src/pipeline/run-state.ts';
import type { RunDirectory } from '../../src/pipeline/run-directory.ts';
import { emptyResumeReadStats, type ResumeReadStats } from '../../src/pipeline/recover-run-files.ts';
import { ResumeCheckpointSchema } from '../../src/schemas/resume-checkpoint.ts';
import { writeLargeRunDirectory } from '../fixtures/write-large-run-directory.ts';

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'pf-resume-scale-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const runDirectoryAt = (path: string): RunDirectory => ({
  path,
  file: (name) => join(path, name),
  resumed: true,
  fingerprint: 'large-run',
});

const checkpointPath = (path: string) => join(path, 'resume-checkpoint.json');
const sizeOf = (path: string, name: string) => statSync(join(path, name)).size;

/** What a resume saw, to compare two ways of reading the same directory. */
async function resumeOf(path: string, stats?: ResumeReadStats) {
  const state = await RunState.open(runDirectoryAt(path), 1, stats);
  const seen = { finishedPairs: state.finishedPairs, acceptedRows: state.acceptedRows, summaries: state.summaries };
  await state.close();
  return seen;
}

/**
 * Opens the run state as a resume without a checkpoint does (deleting the one each open writes)
 * and returns the CPU time it took (best of `repeats`): CPU time, not wall time, so other
 * processes on the machine do not stretch one size more than another.
 */
async function timeOpen(path: string, repeats: number): Promise<{ ms: number; state: RunState }> {
  let best = Infinity;
  let state: RunState | undefined;
  for (let attempt = 0; attempt < repeats; attempt++) {
    await state?.close();
    rmSync(checkpointPath(path), { force: true });
    const started = process.cpuUsage();
    state = await RunState.open(runDirectoryAt(path), 1);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return { ms: best, state: state! };
}

describe('resume on a large run directory', () => {
  it('recovers a crashed run without a checkpoint: the orphan row gets its outcome, the torn candidate line is cut', async () => {
    const run = writeLargeRunDirectory(join(directory, 'crashed'), { pairs: 301, crashed: true });
    const state = await RunState.open(runDirectoryAt(run.dir), 1);
    expect(state.finishedPairs).toBe(301);
    expect(state.acceptedRows).toBe(run.accepted);
    expect(state.summaries[0]).toMatchObject({ done: 301, accepted: run.accepted, rejected: run.rejected });
    await state.close();
    const outcomes = readFileSync(join(run.dir, 'outcomes.jsonl'), 'utf8').trim().split('\n');
    expect(outcomes).toHaveLength(301);
    expect(JSON.parse(outcomes[300]).pair_id).toBe('pair-0000300');
    expect(readFileSync(join(run.dir, 'candidates.jsonl'), 'utf8').endsWith('}\n')).toBe(true);
  });

  it('recovers a crashed run from its checkpoint as a full read does, reading in full only the pairs past it', async () => {
    const run = writeLargeRunDirectory(join(directory, 'checkpointed'), {
      pairs: 3_001,
      crashed: true,
      checkpointPairsBehind: 200,
    });
    const mark = ResumeCheckpointSchema.parse(JSON.parse(readFileSync(checkpointPath(run.dir), 'utf8')));
    const fullRead = join(directory, 'checkpointed-full-read');
    cpSync(run.dir, fullRead, { recursive: true });
    rmSync(checkpointPath(fullRead));
    const crashedSizes = {
      outcomes: sizeOf(run.dir, 'outcomes.jsonl'),
      conversations: sizeOf(run.dir, 'conversations.jsonl'),
      candidates: sizeOf(run.dir, 'candidates.jsonl'),
    };

    const stats = emptyResumeReadStats();
    const fromCheckpoint = await resumeOf(run.dir, stats);
    expect(fromCheckpoint).toEqual(await resumeOf(fullRead));
    expect(fromCheckpoint).toMatchObject({ finishedPairs: 3_001, acceptedRows: run.accepted });
    expect(stats.outcomeKeys.bytesRead).toBe(mark.files.outcomes.bytes);
    for (const name of ['outcomes', 'conversations', 'candidates'] as const) {
      expect(stats[name].bytesRead).toBe(crashedSizes[name] - mark.files[name].bytes);
    }
    // The 200 pairs past the checkpoint are a fifteenth of the run: so is what was parsed.
    expect(stats.conversations.bytesRead).toBeLessThan(crashedSizes.conversations / 10);
  }, 60_000);

  it('parses the same work past the checkpoint whatever the run size; only outcome keys grow, in proportion', async () => {
    const sizes = [2_000, 20_000].map((pairs) => {
      const run = writeLargeRunDirectory(join(directory, `counted-${pairs}`), {
        pairs,
        turns: 8,
        crashed: true,
        checkpointPairsBehind: 150,
      });
      return { pairs, run };
    });
    const readings = [];
    for (const { run } of sizes) {
      const stats = emptyResumeReadStats();
      await resumeOf(run.dir, stats);
      readings.push(stats);
    }
    const [small, large] = readings;
    // Keys of 10x the outcome lines: 10x the bytes (lines differ in length by a few digits).
    expect(large.outcomeKeys.bytesRead / small.outcomeKeys.bytesRead).toBeGreaterThan(9);
    expect(large.outcomeKeys.bytesRead / small.outcomeKeys.bytesRead).toBeLessThan(11);
    // Rows, candidates and outcome lines parsed in full: the 150 pairs past the checkpoint in both.
    for (const name of ['outcomes', 'conversations', 'candidates'] as const) {
      expect(large[name].bytesRead / small[name].bytesRead).toBeGreaterThan(0.8);
      expect(large[name].bytesRead / small[name].bytesRead).toBeLessThan(1.25);
    }
  }, 60_000);

  // With a checkpoint the work is counted above (timing a few ms of CPU would be noise on a loaded machine).
  it('takes time linear in the run without a checkpoint (every line parsed): 10x the pairs takes well under 20x the time', async () => {
    const small = writeLargeRunDirectory(join(directory, 'small'), { pairs: 2_000, turns: 8 });
    const large = writeLargeRunDirectory(join(directory, 'large'), { pairs: 20_000, turns: 8 });
    // Warm up the code paths (JIT, zod) so the small run is not charged for them.
    await (await timeOpen(small.dir, 1)).state.close();
    const smallOpen = await timeOpen(small.dir, 3);
    const largeOpen = await timeOpen(large.dir, 3);
    expect(smallOpen.state.acceptedRows).toBe(small.accepted);
    expect(largeOpen.state.acceptedRows).toBe(large.accepted);
    await smallOpen.state.close();
    await largeOpen.state.close();
    // A reader that copies the rest of the file per line makes this ratio ~100 (quadratic).
    const ratio = largeOpen.ms / smallOpen.ms;
    console.log(
      `resume without a checkpoint: 2,000 pairs ${smallOpen.ms.toFixed(0)} ms CPU, 20,000 pairs ${largeOpen.ms.toFixed(0)} ms CPU (x${ratio.toFixed(1)})`,
    );
    expect(ratio).toBeLessThan(20);
  }, 120_000);
});
