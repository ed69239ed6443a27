import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunState } from '../../src/pipeline/run-state.ts';
import { openRunDirectory, RUN_FILES, type RunDirectory } from '../../src/pipeline/run-directory.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';
import type { DatasetRow } from '../../src/schemas/dataset-row.ts';
import type { PairOutcome } from '../../src/schemas/pair-outcome.ts';
import type { OutcomeLine } from '../../src/schemas/outcome-line.ts';
import { datasetRow } from '../fixtures/dataset-row.ts';

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function runDirectory(): Promise<RunDirectory> {
  const parent = await mkdtemp(join(tmpdir(), 'pf-run-state-'));
  directories.push(parent);
  return openRunDirectory(join(parent, 'run'), RunConfigSchema.parse({ iterations: 2 }));
}

const usage = (tokens: number) => ({
  generator: { prompt_tokens: tokens, completion_tokens: tokens, calls: 1 },
  critic: { prompt_tokens: tokens, completion_tokens: 0, calls: 2 },
});

function outcome(pairId: string, status: PairOutcome['status'], iteration = 1): PairOutcome {
  return {
    pair_id: pairId,
    iteration,
    status,
    row: status === 'accepted' ? datasetRow(pairId, iteration) : null,
    candidates: [],
    reasons: status === 'rejected' ? { toxicity: 2 } : {},
    error: status === 'failed' ? 'LlmError: boom' : null,
    usage: usage(10),
    duration_ms: 5,
  };
}

function lineOf(pairOutcome: PairOutcome): OutcomeLine {
  return {
    iteration: pairOutcome.iteration,
    pair_id: pairOutcome.pair_id,
    status: pairOutcome.status,
    row_id: pairOutcome.row?.id ?? null,
    candidates: 2,
    reasons: pairOutcome.reasons,
    error: pairOutcome.error,
    usage: pairOutcome.usage,
    cost_usd: 0.5,
    duration_ms: pairOutcome.duration_ms,
  };
}

const commit = (state: RunState, pairOutcome: PairOutcome, options?: Parameters<RunState['commit']>[2]) =>
  state.commit(pairOutcome, lineOf(pairOutcome), options);

const jsonl = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('RunState commit', () => {
  it('writes each finished pair, counts it in its iteration and marks it done', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commit(state, outcome('a', 'accepted'));
    await commit(state, outcome('b', 'rejected'));
    await commit(state, outcome('c', 'failed'));
    await commit(state, outcome('a', 'accepted', 2));

    const [first, second] = state.summaries;
    expect([first.done, first.accepted, first.rejected, first.failed]).toEqual([3, 1, 1, 1]);
    expect(first.filtered_by).toEqual({ toxicity: 2 });
    expect(first.cost_usd).toBeCloseTo(1.5);
    expect(first.usage.critic.calls).toBe(6);
    expect([second.done, second.accepted]).toEqual([1, 1]);
    expect(state.isDone(1, 'c')).toBe(true);
    expect(state.isDone(2, 'b')).toBe(false);
    expect(state.acceptedIn(1)).toBe(1);

    const rows: DatasetRow[] = [];
    for await (const written of state.rows()) rows.push(written);
    expect(rows.map((written) => written.id)).toEqual(['run-it1-a', 'run-it2-a']);
    await state.close();
    const lines = await jsonl(runDir.file(RUN_FILES.outcomes));
    expect(lines.map((line) => `${line.iteration}/${line.pair_id}/${line.status}`)).toEqual([
      '1/a/accepted',
      '1/b/rejected',
      '1/c/failed',
      '2/a/accepted',
    ]);
  });

  it('keeps a surplus row out of the dataset and counts its pair as rejected', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    const committed = await commit(state, outcome('extra', 'accepted'), { surplus: true });
    expect(committed.status).toBe('rejected');
    expect(committed.row_id).toBeNull();
    expect(committed.reasons).toEqual({ surplus_over_target: 1 });
    expect(state.summaries[0].accepted).toBe(0);
    expect(state.summaries[0].rejected).toBe(1);
    await state.close();
    expect(await jsonl(runDir.file(RUN_FILES.surplus))).toHaveLength(1);
    expect(await readFile(runDir.file(RUN_FILES.conversations), 'utf8')).toBe('');
  });

  it('on reopen (a resume) counts finished pairs again and forgets failed ones so they are retried', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commit(state, outcome('a', 'accepted'));
    await commit(state, outcome('b', 'rejected'));
    await commit(state, outcome('c', 'failed'));
    await state.close();

    const resumed = await RunState.open(runDir, 2);
    expect(resumed.isDone(1, 'a')).toBe(true);
    expect(resumed.isDone(1, 'b')).toBe(true);
    expect(resumed.isDone(1, 'c')).toBe(false);
    expect(resumed.finishedPairs).toBe(2);
    expect([resumed.summaries[0].accepted, resumed.summaries[0].rejected, resumed.summaries[0].failed]).toEqual([
      1, 1, 0,
    ]);
    await resumed.close();
  });

  it('commits a row whose outcome line was lost to a crash, and drops a torn last line', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commit(state, outcome('a', 'accepted'));
    await state.close();
    // A crash after the row of pair b was written, before its outcome line; then a torn write.
    await appendFile(runDir.file(RUN_FILES.conversations), `${JSON.stringify(datasetRow('b'))}\n`);
    await appendFile(runDir.file(RUN_FILES.outcomes), '{"iteration":1,"pair_id":"tor');

    const resumed = await RunState.open(runDir, 2);
    expect(resumed.isDone(1, 'b')).toBe(true);
    expect(resumed.summaries[0].accepted).toBe(2);
    await resumed.close();
    const lines = await jsonl(runDir.file(RUN_FILES.outcomes));
    expect(lines.map((line) => line.pair_id)).toEqual(['a', 'b']);
  });

  it('group commit: pairs finishing within the linger share one write, and are counted one at a time', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    state.commitLingerMs = 50;
    const seen: number[] = [];
    const onCommitted = () => seen.push(state.summaries[0].done);
    const pending = ['a', 'b', 'c'].map((pairId) => commit(state, outcome(pairId, 'accepted'), { onCommitted }));
    // Handed over but not yet on disk: a --target decision must still see them.
    expect(state.acceptedIn(1)).toBe(3);
    expect(state.summaries[0].accepted).toBe(0);
    await Promise.all(pending);
    expect(seen).toEqual([1, 2, 3]);
    expect(state.summaries[0].accepted).toBe(3);
    await state.close();
    expect(await jsonl(runDir.file(RUN_FILES.outcomes))).toHaveLength(3);
  });

  it('rejects the commits of a batch whose write failed and does not count them', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await state.close(); // closed sinks: the next write fails
    await expect(commit(state, outcome('a', 'accepted'))).rejects.toThrow();
    expect(state.summaries[0].done).toBe(0);
    expect(state.acceptedIn(1)).toBe(0);
    expect(state.isDone(1, 'a')).toBe(false);
  });
});
