import { appendFile, cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunState } from '../../src/pipeline/run-state.ts';
import { openRunDirectory, RUN_FILES, type RunDirectory } from '../../src/pipeline/run-directory.ts';
import { emptyResumeReadStats, type ResumeReadStats } from '../../src/pipeline/recover-run-files.ts';
import { readOutcomeKey } from '../../src/pipeline/read-finished-pairs.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';
import type { CandidateRecord } from '../../src/schemas/candidate-record.ts';
import type { PairOutcome } from '../../src/schemas/pair-outcome.ts';
import type { OutcomeLine } from '../../src/schemas/outcome-line.ts';
import { ResumeCheckpointSchema } from '../../src/schemas/resume-checkpoint.ts';
import { datasetRow } from '../fixtures/dataset-row.ts';

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function runDirectory(): Promise<RunDirectory> {
  const parent = await mkdtemp(join(tmpdir(), 'pf-resume-checkpoint-'));
  directories.push(parent);
  return openRunDirectory(join(parent, 'run'), RunConfigSchema.parse({ iterations: 2 }));
}

/** The same run directory copied elsewhere, to open it two ways. */
async function copyOf(runDir: RunDirectory): Promise<RunDirectory> {
  const parent = await mkdtemp(join(tmpdir(), 'pf-resume-checkpoint-copy-'));
  directories.push(parent);
  const path = join(parent, 'run');
  await cp(runDir.path, path, { recursive: true });
  return { ...runDir, path, file: (name) => join(path, name) };
}

/** A pair's candidate records: only the fields a resume reads are needed. */
const candidatesOf = (pairId: string, iteration: number) =>
  [0, 1].map(
    (candidate_index) => ({ run_id: 'run', iteration, pair_id: pairId, candidate_index }) as unknown as CandidateRecord,
  );

function outcome(pairId: string, status: PairOutcome['status'], iteration = 1): PairOutcome {
  return {
    pair_id: pairId,
    iteration,
    status,
    row: status === 'accepted' ? datasetRow(pairId, iteration) : null,
    candidates: candidatesOf(pairId, iteration),
    reasons: status === 'rejected' ? { toxicity: 2 } : {},
    error: status === 'failed' ? 'LlmError: boom' : null,
    usage: {
      generator: { prompt_tokens: 7, completion_tokens: 3, calls: 1 },
      critic: { prompt_tokens: 5, completion_tokens: 1, calls: 2 },
    },
    duration_ms: 5,
  };
}

function lineOf(pairOutcome: PairOutcome): OutcomeLine {
  return {
    iteration: pairOutcome.iteration,
    pair_id: pairOutcome.pair_id,
    status: pairOutcome.status,
    row_id: pairOutcome.row?.id ?? null,
    candidates: pairOutcome.candidates.length,
    reasons: pairOutcome.reasons,
    error: pairOutcome.error,
    usage: pairOutcome.usage,
    cost_usd: 0.25,
    duration_ms: pairOutcome.duration_ms,
    reply_parsing: { replies: 2, repaired: 1, unparsable: 0, repaired_by_kind: { preamble: 1 } },
  };
}

/** Commits pairs `first`..`first + count - 1` of iteration 1, one in three rejected (or failed, if asked). */
async function commitPairs(state: RunState, first: number, count: number, third: 'rejected' | 'failed' = 'rejected') {
  for (let index = first; index < first + count; index++) {
    const pairOutcome = outcome(`p${index}`, index % 3 === 2 ? third : 'accepted', 1 + (index % 2));
    await state.commit(pairOutcome, lineOf(pairOutcome));
  }
}

const checkpointOf = async (runDir: RunDirectory) =>
  ResumeCheckpointSchema.parse(JSON.parse(await readFile(runDir.file(RUN_FILES.checkpoint), 'utf8')));
const sizeOf = async (runDir: RunDirectory, name: string) => (await stat(runDir.file(name))).size;
const linesOf = async (runDir: RunDirectory, name: string) =>
  (await readFile(runDir.file(name), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { iteration: number; pair_id: string; status?: string });

/** What a resume saw: counts per iteration, finished pairs, rows, and the files it left. */
async function resumeOf(runDir: RunDirectory, pairIds: string[], stats?: ResumeReadStats) {
  const state = await RunState.open(runDir, 2, stats);
  const seen = {
    summaries: structuredClone(state.summaries),
    done: pairIds.flatMap((pairId) =>
      [1, 2].filter((iteration) => state.isDone(iteration, pairId)).map((iteration) => `${iteration}/${pairId}`),
    ),
    acceptedRows: state.acceptedRows,
    finishedPairs: state.finishedPairs,
  };
  await state.close();
  const files = Object.fromEntries(
    await Promise.all(
      [RUN_FILES.outcomes, RUN_FILES.conversations, RUN_FILES.candidates].map(async (name) => [
        name,
        await readFile(runDir.file(name), 'utf8'),
      ]),
    ),
  );
  return { ...seen, files };
}

const allPairIds = Array.from({ length: 80 }, (_, index) => `p${index}`).concat(['z', 'y']);

describe('resume from a checkpoint', () => {
  it('after a crash, reads only the outcome keys before the checkpoint and every line after it, and agrees with a full read', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commitPairs(state, 0, 60);
    await state.close();
    const mark = await checkpointOf(runDir);
    expect(mark.files.outcomes.bytes).toBe(await sizeOf(runDir, RUN_FILES.outcomes));

    // A crash: one more pair committed, then pair z's row and candidates written without their
    // outcome line, pair y's candidates (rejected, unfinished), and a torn outcome line.
    const resumed = await RunState.open(runDir, 2);
    resumed.checkpointIntervalMs = Number.POSITIVE_INFINITY;
    await commitPairs(resumed, 60, 1);
    await resumed.close();
    await writeFile(runDir.file(RUN_FILES.checkpoint), JSON.stringify(mark));
    await appendFile(
      runDir.file(RUN_FILES.candidates),
      candidatesOf('z', 1)
        .map((c) => `${JSON.stringify(c)}\n`)
        .join(''),
    );
    await appendFile(
      runDir.file(RUN_FILES.candidates),
      candidatesOf('y', 1)
        .map((c) => `${JSON.stringify(c)}\n`)
        .join(''),
    );
    await appendFile(runDir.file(RUN_FILES.conversations), `${JSON.stringify(datasetRow('z', 1))}\n`);
    await appendFile(runDir.file(RUN_FILES.outcomes), '{"iteration":1,"pair_id":"y","sta');
    const names = ['outcomes', 'conversations', 'candidates'] as const;
    const crashedSizes = Object.fromEntries(
      await Promise.all(names.map(async (name) => [name, await sizeOf(runDir, RUN_FILES[name])])),
    ) as Record<(typeof names)[number], number>;

    const fullRead = await copyOf(runDir);
    await rm(fullRead.file(RUN_FILES.checkpoint));
    const stats = emptyResumeReadStats();
    const fromCheckpoint = await resumeOf(runDir, allPairIds, stats);
    const everyLine = await resumeOf(fullRead, allPairIds);

    expect(fromCheckpoint).toEqual(everyLine);
    expect(fromCheckpoint.done).toContain('1/z');
    expect(fromCheckpoint.done).not.toContain('1/y');
    expect(fromCheckpoint.finishedPairs).toBe(62);
    expect(fromCheckpoint.summaries[0].reply_parsing?.repaired_by_kind).toEqual({ preamble: 31 });
    // Only the keys before the mark; each other file only after its mark.
    expect(stats.outcomeKeys.bytesRead).toBe(mark.files.outcomes.bytes);
    for (const name of names) expect(stats[name].bytesRead).toBe(crashedSizes[name] - mark.files[name].bytes);
    // The resume's own checkpoint covers the clean files.
    const after = await checkpointOf(runDir);
    expect(after.files.outcomes.bytes).toBe(await sizeOf(runDir, RUN_FILES.outcomes));
    expect(after.accepted_rows).toBe(fromCheckpoint.acceptedRows);
  });

  it('forgets failed pairs committed after the checkpoint, removing their candidates from between kept ones', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commitPairs(state, 0, 30);
    await state.close();
    const mark = await checkpointOf(runDir);
    const resumed = await RunState.open(runDir, 2);
    resumed.checkpointIntervalMs = Number.POSITIVE_INFINITY;
    await commitPairs(resumed, 30, 12, 'failed');
    await resumed.close();
    await writeFile(runDir.file(RUN_FILES.checkpoint), JSON.stringify(mark)); // a crash before the next checkpoint
    const candidatesBefore = await readFile(runDir.file(RUN_FILES.candidates), 'utf8');

    const fullRead = await copyOf(runDir);
    await rm(fullRead.file(RUN_FILES.checkpoint));
    const stats = emptyResumeReadStats();
    const fromCheckpoint = await resumeOf(runDir, allPairIds, stats);
    expect(fromCheckpoint).toEqual(await resumeOf(fullRead, allPairIds));
    expect(fromCheckpoint.done).not.toContain('1/p32');
    expect(fromCheckpoint.summaries.map((summary) => summary.failed)).toEqual([0, 0]);
    expect((await linesOf(runDir, RUN_FILES.candidates)).some((record) => record.pair_id === 'p32')).toBe(false);
    expect((await linesOf(runDir, RUN_FILES.candidates)).some((record) => record.pair_id === 'p33')).toBe(true);
    // The lines before the mark are kept byte for byte, and were not parsed.
    const candidatesAfter = await readFile(runDir.file(RUN_FILES.candidates), 'utf8');
    expect(candidatesAfter.slice(0, mark.files.candidates.bytes)).toBe(
      candidatesBefore.slice(0, mark.files.candidates.bytes),
    );
    expect(stats.outcomeKeys.bytesRead).toBe(mark.files.outcomes.bytes);
  });

  it('reads every line when failed pairs lie before the checkpoint, then checkpoints the clean files', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commitPairs(state, 0, 12, 'failed');
    await state.close();
    expect((await checkpointOf(runDir)).failed_pairs).toBe(4);

    const stats = emptyResumeReadStats();
    const resumed = await resumeOf(runDir, allPairIds, stats);
    expect(stats.outcomeKeys.bytesRead).toBe(0);
    expect(resumed.done).not.toContain('1/p2');
    expect(resumed.finishedPairs).toBe(8);
    expect((await linesOf(runDir, RUN_FILES.candidates)).filter((record) => record.pair_id === 'p2')).toEqual([]);
    const clean = await checkpointOf(runDir);
    expect(clean.failed_pairs).toBe(0);

    const again = emptyResumeReadStats();
    expect(await resumeOf(runDir, allPairIds, again)).toEqual(resumed);
    expect(again.outcomeKeys.bytesRead).toBe(clean.files.outcomes.bytes);
    expect(again.conversations.bytesRead).toBe(0);
  });

  it('reads every line when the checkpoint is torn, or marks more than a file holds', async () => {
    const runDir = await runDirectory();
    const state = await RunState.open(runDir, 2);
    await commitPairs(state, 0, 20);
    await state.close();
    const mark = await checkpointOf(runDir);
    const expected = await resumeOf(await copyOf(runDir), allPairIds);
    const outcomesBytes = await sizeOf(runDir, RUN_FILES.outcomes);

    for (const checkpoint of [
      JSON.stringify(mark).slice(0, 40),
      JSON.stringify({
        ...mark,
        files: { ...mark.files, conversations: { bytes: mark.files.conversations.bytes + 1, lines: 99 } },
      }),
      JSON.stringify({
        ...mark,
        files: { ...mark.files, outcomes: { bytes: mark.files.outcomes.bytes - 3, lines: 19 } },
      }),
      JSON.stringify({ ...mark, iterations: mark.iterations.slice(0, 1) }),
    ]) {
      await writeFile(runDir.file(RUN_FILES.checkpoint), checkpoint);
      const stats = emptyResumeReadStats();
      expect(await resumeOf(runDir, allPairIds, stats)).toEqual(expected);
      expect(stats.outcomeKeys.bytesRead).toBe(0);
      expect(stats.outcomes.bytesRead).toBe(outcomesBytes);
    }
  });
});

describe('readOutcomeKey', () => {
  const key = (line: unknown) => readOutcomeKey(Buffer.from(typeof line === 'string' ? line : JSON.stringify(line)));
  it('reads the key of a line as the run writes it, and parses any other shape in full', () => {
    const pairOutcome = outcome('pair-7', 'failed', 2);
    expect(key(lineOf(pairOutcome))).toEqual({ iteration: 2, pairId: 'pair-7', status: 'failed' });
    const { iteration, pair_id, status, ...rest } = lineOf(outcome('b', 'accepted'));
    expect(key({ ...rest, status, pair_id, iteration })).toEqual({ iteration: 1, pairId: 'b', status: 'accepted' });
    expect(key({ iteration: 12, pair_id: 'say "hi"', status: 'rejected' })).toEqual({
      iteration: 12,
      pairId: 'say "hi"',
      status: 'rejected',
    });
    expect(key({ iteration: 1, pair_id: 'née', status: 'accepted' })).toEqual({
      iteration: 1,
      pairId: 'née',
      status: 'accepted',
    });
    expect(key({ iteration: 1, pair_id: 'x', status: 'acceptedish' })).toBeUndefined();
    expect(key('{"iteration":1,"pair_id":"x"')).toBeUndefined();
    expect(key({ iteration: 0, pair_id: 'x', status: 'accepted' })).toBeUndefined();
  });
});
