import { rm } from 'node:fs/promises';
import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { CandidateRecordSchema } from '../schemas/candidate-record.ts';
import { OutcomeLineSchema, type OutcomeLine } from '../schemas/outcome-line.ts';
import type { IterationSummary } from '../schemas/manifest.ts';
import type { ResumeCheckpoint } from '../schemas/resume-checkpoint.ts';
import { recoverJsonl } from '../output/recover-jsonl.ts';
import type { JsonlPosition, JsonlScanStats } from '../output/read-jsonl.ts';
import { RUN_FILES, type RunDirectory } from './run-directory.ts';
import { FinishedPairs } from './finished-pairs.ts';
import { emptyIterationSummary, tallyOutcome } from './iteration-tally.ts';
import { readFinishedPairs } from './read-finished-pairs.ts';
import { readResumeCheckpoint, type CheckpointedFile } from './resume-checkpoint.ts';

/**
 * What a resume needs of a row (its pair, and an outcome line when the row's own was lost) and of
 * a candidate (its pair): validating only these keeps reading a run back cheap. Recovery copies
 * kept lines byte for byte, so the fields left out are never lost.
 */
const RowOnResumeSchema = DatasetRowSchema.pick({
  id: true,
  iteration: true,
  pair_id: true,
  lineage: true,
  usage: true,
});
const CandidateOnResumeSchema = CandidateRecordSchema.pick({ iteration: true, pair_id: true });

/** Read counters of a resume, per run file: what the work is proportional to. */
export type ResumeReadStats = Record<CheckpointedFile, JsonlScanStats> & {
  /** Bytes of `outcomes.jsonl` of which only each line's key was read (covered by the checkpoint). */
  outcomeKeys: JsonlScanStats;
};

export const emptyResumeReadStats = (): ResumeReadStats => {
  const counters = () => ({ chunks: 0, bytesRead: 0, bytesCopied: 0 });
  return {
    outcomes: counters(),
    conversations: counters(),
    candidates: counters(),
    surplus: counters(),
    outcomeKeys: counters(),
  };
};

/** The run files read back and made clean for appends. */
export interface RecoveredRun {
  /** Per iteration, every outcome line other than failed ones (and `orphans`), tallied. */
  tallies: IterationSummary[];
  done: FinishedPairs;
  acceptedRows: number;
  /** Outcome lines to append for rows written just before a crash took their own (already in `tallies` and `done`). */
  orphans: OutcomeLine[];
  /** Where each file ends now. */
  ends: Record<CheckpointedFile, JsonlPosition>;
  /** True when a checkpoint spared reading the files before its marks. */
  fromCheckpoint: boolean;
}

/**
 * Reads a run's files back for a resume and leaves them clean for appends. Writes per pair go
 * candidates -> row -> outcome line, so the outcome line is the commit record: a row without one
 * (accepted just before a crash) is committed, candidates of unfinished pairs are dropped, a line
 * torn by a crash is cut, and failed pairs are forgotten (their lines removed) so they are retried.
 *
 * With a usable checkpoint (`readResumeCheckpoint`), only the key of each outcome line before its
 * mark is read (the checkpoint holds their counts) and the other files are not read before their
 * marks at all: the work is the outcome lines' keys plus whatever was written after the
 * checkpoint. Without one, every file is read in full, once (twice when lines are removed from
 * its middle); the checkpoint is deleted first, since removing lines moves every mark.
 */
export async function recoverRunFiles(
  runDir: RunDirectory,
  iterations: number,
  stats: ResumeReadStats = emptyResumeReadStats(),
): Promise<RecoveredRun> {
  const file = (name: CheckpointedFile) => runDir.file(RUN_FILES[name]);
  let checkpoint = await readResumeCheckpoint(runDir, iterations);
  let done = new FinishedPairs();
  if (
    checkpoint &&
    !(await readFinishedPairs(file('outcomes'), checkpoint.files.outcomes.bytes, done, stats.outcomeKeys))
  ) {
    checkpoint = undefined;
    done = new FinishedPairs();
  }
  if (!checkpoint) await rm(runDir.file(RUN_FILES.checkpoint), { force: true });
  const tallies = checkpoint
    ? checkpoint.iterations.map((tally) => ({
        ...emptyIterationSummary(tally.iteration, 0),
        ...structuredClone(tally),
      }))
    : Array.from({ length: iterations }, (_, index) => emptyIterationSummary(index + 1, 0));
  const from = (name: CheckpointedFile) => markOf(checkpoint, name);

  const outcomes = await recoverJsonl(file('outcomes'), OutcomeLineSchema, {
    from: from('outcomes'),
    keep: (outcome) => outcome.status !== 'failed',
    onRecord: (outcome) => {
      done.add(outcome.iteration, outcome.pair_id);
      tallyOutcome(tallies[outcome.iteration - 1], outcome);
    },
    stats: stats.outcomes,
  });
  let acceptedRows = checkpoint?.accepted_rows ?? 0;
  const orphans: OutcomeLine[] = [];
  const conversations = await recoverJsonl(file('conversations'), RowOnResumeSchema, {
    from: from('conversations'),
    onRecord: (row) => {
      acceptedRows++;
      if (done.has(row.iteration, row.pair_id)) return;
      const outcome = outcomeFromOrphanRow(row);
      orphans.push(outcome);
      done.add(row.iteration, row.pair_id);
      tallyOutcome(tallies[outcome.iteration - 1], outcome);
    },
    stats: stats.conversations,
  });
  const candidates = await recoverJsonl(file('candidates'), CandidateOnResumeSchema, {
    from: from('candidates'),
    keep: (record) => done.has(record.iteration, record.pair_id),
    stats: stats.candidates,
  });
  const surplus = await recoverJsonl(file('surplus'), RowOnResumeSchema, {
    from: from('surplus'),
    stats: stats.surplus,
  });
  return {
    tallies,
    done,
    acceptedRows,
    orphans,
    ends: {
      outcomes: outcomes.end,
      conversations: conversations.end,
      candidates: candidates.end,
      surplus: surplus.end,
    },
    fromCheckpoint: checkpoint !== undefined,
  };
}

function markOf(checkpoint: ResumeCheckpoint | undefined, name: CheckpointedFile): JsonlPosition | undefined {
  const mark = checkpoint?.files[name];
  return mark && { offset: mark.bytes, line: mark.lines };
}

/** The outcome of a pair whose row was written but whose outcome line was lost to a crash. */
function outcomeFromOrphanRow(
  row: Pick<DatasetRow, 'id' | 'iteration' | 'pair_id' | 'lineage' | 'usage'>,
): OutcomeLine {
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
