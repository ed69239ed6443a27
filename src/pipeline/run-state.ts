import type { DatasetRow } from '../schemas/dataset-row.ts';
import type { OutcomeLine } from '../schemas/outcome-line.ts';
import type { IterationSummary } from '../schemas/manifest.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { ResumeCheckpoint } from '../schemas/resume-checkpoint.ts';
import { openJsonlSink, type JsonlSink } from '../output/jsonl-sink.ts';
import { scanJsonlLines, type JsonlPosition } from '../output/read-jsonl.ts';
import { writeJsonAtomic } from '../output/write-json-atomic.ts';
import { RUN_FILES, type RunDirectory } from './run-directory.ts';
import type { FinishedPairs } from './finished-pairs.ts';
import { tallyOutcome } from './iteration-tally.ts';
import { recoverRunFiles, type ResumeReadStats } from './recover-run-files.ts';
import type { CheckpointedFile } from './resume-checkpoint.ts';

/** A pair handed to `RunState.commit`, waiting for its durable write. */
interface PendingCommit {
  outcome: PairOutcome;
  committed: OutcomeLine;
  surplus: boolean;
  onCommitted: ((line: OutcomeLine) => void) | undefined;
  resolve: (line: OutcomeLine) => void;
  reject: (error: unknown) => void;
}

/**
 * The durable state of a run: what is finished, the accepted rows, and per-iteration counts.
 * Writes per pair go candidates -> row -> outcome, so the outcome line is the commit record:
 * on reopen, a row without an outcome (accepted just before a crash) is committed, candidates of
 * unfinished pairs are dropped, and failed pairs are forgotten so they are retried.
 */
export class RunState {
  /**
   * How long a finished pair may wait for others to share its durable write (0: written at once).
   * Set from the executor (`Executor.commitLingerMs`); only worth it when pairs finish close together.
   */
  commitLingerMs = 0;
  /**
   * Least time between two checkpoints (`resume-checkpoint.json`) written as pairs are committed:
   * a crash leaves at most about this much of the run for a resume to read in full. One is also
   * written when the state is opened and closed. @defaultValue 1000
   */
  checkpointIntervalMs = 1000;
  private waiting: PendingCommit[] = [];
  private writing: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Per iteration: accepted pairs handed to `commit` and not yet on disk. */
  private readonly pendingAccepted = new Map<number, number>();

  /** When the last checkpoint was written (ms since the epoch). */
  private checkpointedAt = 0;
  /** Set by a failed write: the files may disagree from then on, so no checkpoint marks them. */
  private writeFailed = false;
  /** Failed pairs committed since the files were read back (their lines are in `outcomes.jsonl`). */
  private failedPairs = 0;

  private constructor(
    readonly summaries: IterationSummary[],
    /** Per iteration, the committed outcome lines other than failed ones: what a checkpoint holds. */
    private readonly tallies: IterationSummary[],
    private readonly done: FinishedPairs,
    /** Accepted rows; the rows themselves stay on disk so memory does not grow with the run. */
    private acceptedRowCount: number,
    private readonly runDir: RunDirectory,
    private readonly sinks: Record<CheckpointedFile, JsonlSink>,
    /** Lines each file held when read back (the sinks count the records written since). */
    private readonly linesAtOpen: Record<CheckpointedFile, number>,
  ) {}

  /**
   * Reads the run directory's files back (`recoverRunFiles`: in full only past the last
   * checkpoint), commits rows whose outcome line a crash took, and writes a checkpoint of the
   * clean files. `stats` (optional) receives read counters per file.
   */
  static async open(runDir: RunDirectory, iterations: number, stats?: ResumeReadStats): Promise<RunState> {
    const file = runDir.file;
    const recovered = await recoverRunFiles(runDir, iterations, stats);
    const sinks = {
      conversations: await openJsonlSink(file(RUN_FILES.conversations)),
      candidates: await openJsonlSink(file(RUN_FILES.candidates)),
      outcomes: await openJsonlSink(file(RUN_FILES.outcomes)),
      surplus: await openJsonlSink(file(RUN_FILES.surplus)),
    };
    const linesAt = (end: JsonlPosition) => end.line;
    const state = new RunState(
      recovered.tallies.map((tally) => structuredClone(tally)),
      recovered.tallies,
      recovered.done,
      recovered.acceptedRows,
      runDir,
      sinks,
      {
        outcomes: linesAt(recovered.ends.outcomes),
        conversations: linesAt(recovered.ends.conversations),
        candidates: linesAt(recovered.ends.candidates),
        surplus: linesAt(recovered.ends.surplus),
      },
    );
    if (recovered.orphans.length) await sinks.outcomes.append(recovered.orphans);
    await state.writeCheckpoint();
    return state;
  }

  isDone(iteration: number, pairId: string): boolean {
    return this.done.has(iteration, pairId);
  }

  get finishedPairs(): number {
    return this.done.size;
  }

  get acceptedRows(): number {
    return this.acceptedRowCount;
  }

  /**
   * The best `limit` accepted rows of one iteration by Copeland score (ties by id), streamed from
   * `conversations.jsonl` so memory stays bounded by `limit`, not by the iteration's size.
   */
  async topRowsOf(iteration: number, limit: number): Promise<DatasetRow[]> {
    const score = (row: DatasetRow) => row.scores.copeland ?? 0;
    const better = (a: DatasetRow, b: DatasetRow) => score(b) - score(a) || a.id.localeCompare(b.id);
    const top: DatasetRow[] = [];
    for await (const row of this.rows()) {
      if (row.iteration !== iteration) continue;
      if (top.length === limit && better(row, top[top.length - 1]) >= 0) continue;
      top.splice(top.findIndex((held) => better(row, held) < 0) >>> 0, 0, row);
      if (top.length > limit) top.pop();
    }
    return top;
  }

  /** Streams every accepted row from `conversations.jsonl`, in the order they were accepted. */
  async *rows(): AsyncGenerator<DatasetRow> {
    await this.flushCommits();
    await this.sinks.conversations.flush();
    // Pulled a chunk at a time as the consumer asks (readline reads ahead and queues lines while a
    // slow consumer, e.g. the Parquet writer, works): memory stays bounded by the consumer's needs.
    for await (const line of scanJsonlLines(this.sinks.conversations.path)) {
      if (line.text.trim()) yield JSON.parse(line.text) as DatasetRow;
    }
  }

  /**
   * Accepted pairs of `iteration`, counting those handed to `commit` and not yet on disk: what a
   * `--target` decision must see when several pairs finish close together.
   */
  acceptedIn(iteration: number): number {
    return this.summaries[iteration - 1].accepted + (this.pendingAccepted.get(iteration) ?? 0);
  }

  /**
   * Writes one finished pair; resolves once it is on disk. `surplus` (an accepted row beyond
   * `--target`) keeps the row in `surplus.jsonl` and counts the pair as rejected with reason
   * `surplus_over_target`. Group commit: pairs committed while a write runs, or within
   * `commitLingerMs` of the first waiting one, share one durable write per file. `onCommitted`
   * runs synchronously right after this pair is counted and before the next pair of the same
   * write is, so whatever it reads from `summaries` advances one pair at a time.
   */
  commit(
    outcome: PairOutcome,
    line: OutcomeLine,
    options: { surplus?: boolean; onCommitted?: (line: OutcomeLine) => void } = {},
  ): Promise<OutcomeLine> {
    const surplus = outcome.row !== null && options.surplus === true;
    const committed: OutcomeLine = surplus
      ? { ...line, status: 'rejected', row_id: null, reasons: { ...line.reasons, surplus_over_target: 1 } }
      : line;
    if (committed.status === 'accepted') this.countPending(outcome.iteration, 1);
    return new Promise<OutcomeLine>((resolve, reject) => {
      this.waiting.push({ outcome, committed, surplus, onCommitted: options.onCommitted, resolve, reject });
      if (this.writing || this.lingerTimer) return; // the running write or the timer takes it along
      if (this.commitLingerMs > 0) this.lingerTimer = setTimeout(() => this.writeWaiting(), this.commitLingerMs);
      else this.writeWaiting();
    });
  }

  /** Writes whatever waits now (not waiting out the linger); resolves when every commit so far is on disk. */
  async flushCommits(): Promise<void> {
    if (this.waiting.length && !this.writing) this.writeWaiting();
    while (this.writing) await this.writing;
  }

  private writeWaiting(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.waiting.length === 0 || this.writing) return;
    this.writing = (async () => {
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        await this.writeBatch(batch);
        if (Date.now() - this.checkpointedAt >= this.checkpointIntervalMs) await this.writeCheckpoint();
      }
      this.writing = undefined;
    })();
  }

  /** Candidates and rows of every pair in `batch` (side by side, different files), then their outcome lines. */
  private async writeBatch(batch: PendingCommit[]): Promise<void> {
    const rows = batch.filter((entry) => entry.outcome.row && !entry.surplus).map((entry) => entry.outcome.row!);
    const surplusRows = batch.filter((entry) => entry.surplus).map((entry) => entry.outcome.row!);
    try {
      await Promise.all([
        this.sinks.candidates.append(batch.flatMap((entry) => entry.outcome.candidates)),
        rows.length ? this.sinks.conversations.append(rows) : undefined,
        surplusRows.length ? this.sinks.surplus.append(surplusRows) : undefined,
      ]);
      await this.sinks.outcomes.append(batch.map((entry) => entry.committed));
    } catch (error) {
      this.writeFailed = true;
      for (const entry of batch) {
        if (entry.committed.status === 'accepted') this.countPending(entry.outcome.iteration, -1);
        entry.reject(error);
      }
      return;
    }
    for (const { outcome, committed, onCommitted, resolve, reject } of batch) {
      if (committed.status === 'accepted') this.countPending(outcome.iteration, -1);
      if (outcome.row && committed.status === 'accepted') this.acceptedRowCount++;
      this.done.add(outcome.iteration, outcome.pair_id);
      tallyOutcome(this.summaries[outcome.iteration - 1], committed);
      if (committed.status === 'failed') this.failedPairs++;
      else tallyOutcome(this.tallies[outcome.iteration - 1], committed);
      try {
        onCommitted?.(committed);
        resolve(committed);
      } catch (error) {
        reject(error);
      }
    }
  }

  private countPending(iteration: number, delta: number): void {
    this.pendingAccepted.set(iteration, (this.pendingAccepted.get(iteration) ?? 0) + delta);
  }

  /**
   * Writes `resume-checkpoint.json` for the files as they are now. Called only between batches
   * (every record on disk belongs to a committed pair) and never after a failed write. A checkpoint
   * that cannot be written is left out: the one before it stays valid, a resume just reads more.
   */
  private async writeCheckpoint(): Promise<void> {
    if (this.writeFailed) return;
    this.checkpointedAt = Date.now();
    const mark = (name: CheckpointedFile) => ({
      bytes: this.sinks[name].size,
      lines: this.linesAtOpen[name] + this.sinks[name].recordsWritten,
    });
    const checkpoint: ResumeCheckpoint = {
      version: 1,
      files: {
        outcomes: mark('outcomes'),
        conversations: mark('conversations'),
        candidates: mark('candidates'),
        surplus: mark('surplus'),
      },
      accepted_rows: this.acceptedRowCount,
      failed_pairs: this.failedPairs,
      iterations: this.tallies.map((tally) => ({
        iteration: tally.iteration,
        done: tally.done,
        candidates: tally.candidates,
        accepted: tally.accepted,
        rejected: tally.rejected,
        failed: tally.failed,
        filtered_by: tally.filtered_by,
        usage: tally.usage,
        cost_usd: tally.cost_usd,
        ...(tally.reply_parsing && { reply_parsing: tally.reply_parsing }),
        ...(tally.few_shot && { few_shot: tally.few_shot }),
      })),
    };
    await writeJsonAtomic(this.runDir.file(RUN_FILES.checkpoint), checkpoint).catch(() => {});
  }

  async close(): Promise<void> {
    await this.flushCommits().catch(() => {});
    await this.writeCheckpoint();
    for (const sink of Object.values(this.sinks)) await sink.close().catch(() => {});
  }
}
