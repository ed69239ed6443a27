import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunState } from '../../src/pipeline/run-state.ts';
import type { RunDirectory } from '../../src/pipeline/run-directory.ts';
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

/**
 * Opens the run state as a resume does and returns the CPU time it took (best of `repeats`): CPU
 * time, not wall time, so other processes on the machine do not stretch one size more than another.
 */
async function timeOpen(path: string, repeats: number): Promise<{ ms: number; state: RunState }> {
  let best = Infinity;
  let state: RunState | undefined;
  for (let attempt = 0; attempt < repeats; attempt++) {
    await state?.close();
    const started = process.cpuUsage();
    state = await RunState.open(runDirectoryAt(path), 1);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return { ms: best, state: state! };
}

describe('resume on a large run directory', () => {
  it('recovers a crashed run: the orphan row gets its outcome, the torn candidate line is cut', async () => {
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

  it('takes time linear in the run: 10x the pairs takes well under 20x the time', async () => {
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
      `resume: 2,000 pairs ${smallOpen.ms.toFixed(0)} ms CPU, 20,000 pairs ${largeOpen.ms.toFixed(0)} ms CPU (x${ratio.toFixed(1)})`,
    );
    expect(ratio).toBeLessThan(20);
  }, 120_000);
});
