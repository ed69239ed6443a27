import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { CandidateRecordSchema } from '../schemas/candidate-record.ts';
import { OutcomeLineSchema, type OutcomeLine } from '../schemas/outcome-line.ts';
import type { IterationSummary } from '../schemas/manifest.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import { openJsonlSink, type JsonlSink } from '../output/jsonl-sink.ts';
import { recoverJsonl } from '../output/recover-jsonl.ts';
import { scanJsonlLines } from '../output/read-jsonl.ts';
import { RUN_FILES, type RunDirectory } from './run-directory.ts';
import { FinishedPairs } from './finished-pairs.ts';
import { emptyIterationSummary, tallyOutcome } from './iteration-tally.ts';

/**
 * What a resume needs of a row (its pair, and an outcome line when the row's own was lost) and of
 * a candidate (its pair): validating only these keeps reading a large run back cheap. Recovery
 * copies kept lines byte for byte, so the fields left out are never lost.
 */
const RowOnResumeSchema = DatasetRowSchema.pick({
  id: true,
  iteration: true,
  pair_id: true,
  lineage: true,
  usage: true,
});
const CandidateOnResumeSchema = CandidateRecordSchema.pick({ iteration: true, pair_id: true });

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
  private waiting: PendingCommit[] = [];
  private writing: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Per iteration: accepted pairs handed to `commit` and not yet on disk. */
  private readonly pendingAccepted = new Map<number, number>();

  private constructor(
    readonly summaries: IterationSummary[],
    private readonly done: FinishedPairs,
    /** Accepted rows; the rows themselves stay on disk so memory does not grow with the run. */
    private acceptedRowCount: number,
    private readonly conversationsPath: string,
    private readonly sinks: {
      conversations: JsonlSink;
      candidates: JsonlSink;
      outcomes: JsonlSink;
      surplus: JsonlSink;
    },
  ) {}

  static async open(runDir: RunDirectory, iterations: number): Promise<RunState> {
    const file = runDir.file;
    // Each file is streamed once (twice when records are dropped): memory holds the pair keys and
    // row ids, never the records, so a resume of a million rows reads in linear time.
    const summaries = Array.from({ length: iterations }, (_, index) => emptyIterationSummary(index + 1, 0));
    const done = new FinishedPairs();
    await recoverJsonl(file(RUN_FILES.outcomes), OutcomeLineSchema, {
      keep: (outcome) => outcome.status !== 'failed',
      onRecord: (outcome) => {
        done.add(outcome.iteration, outcome.pair_id);
        tallyOutcome(summaries[outcome.iteration - 1], outcome);
      },
    });
    let rows = 0;
    const orphans: OutcomeLine[] = [];
    await recoverJsonl(file(RUN_FILES.conversations), RowOnResumeSchema, {
      onRecord: (row) => {
        rows++;
        if (done.has(row.iteration, row.pair_id)) return;
        const outcome = outcomeFromOrphanRow(row);
        orphans.push(outcome);
        done.add(row.iteration, row.pair_id);
        tallyOutcome(summaries[outcome.iteration - 1], outcome);
      },
    });
    await recoverJsonl(file(RUN_FILES.candidates), CandidateOnResumeSchema, {
      keep: (record) => done.has(record.iteration, record.pair_id),
    });
    await recoverJsonl(file(RUN_FILES.surplus), RowOnResumeSchema);

    const sinks = {
      conversations: await openJsonlSink(file(RUN_FILES.conversations)),
      candidates: await openJsonlSink(file(RUN_FILES.candidates)),
      outcomes: await openJsonlSink(file(RUN_FILES.outcomes)),
      surplus: await openJsonlSink(file(RUN_FILES.surplus)),
    };
    if (orphans.length) await sinks.outcomes.append(orphans);
    return new RunState(summaries, done, rows, file(RUN_FILES.conversations), sinks);
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
    for await (const line of scanJsonlLines(this.conversationsPath)) {
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

  async close(): Promise<void> {
    await this.flushCommits().catch(() => {});
    for (const sink of Object.values(this.sinks)) await sink.close().catch(() => {});
  }
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
