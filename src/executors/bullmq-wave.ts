import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PairJob } from '../schemas/pair-job.ts';
import { iteratePairJobs, type PairJobSource } from '../pipeline/executor.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import { EndpointUnreachableError } from '../errors.ts';
import { bullMqJobId } from './bullmq-job-id.ts';
import { ENDPOINT_UNREACHABLE_REASON, type RunKeys } from './bullmq-keys.ts';
import { decodeOutcome } from './bullmq-outcome-codec.ts';
import { createQueueFailureOutcome } from './create-queue-failure-outcome.ts';
import { inspectQueuedPairJobs } from './inspect-queued-pair-jobs.ts';
import { readOutcomeStreamEntries } from './read-outcome-stream-entries.ts';
import { toQueuedPairJob } from './to-queued-pair-job.ts';

/**
 * The phases of one wave, in order:
 * - `catching up`: outcomes that came back while no coordinator listened (it died; this is a
 *   resume) are taken first (one pass over the jobs finds theirs), so their jobs are not added
 *   (and run) again;
 * - `running`: jobs are pulled from the source and added as room in the queue allows, outcomes
 *   are read and handed on, and every reconcile interval lost jobs are added again and jobs that
 *   failed for good reported;
 * - `draining`: the signal aborted; nothing more is added, jobs no worker started have been taken
 *   back, and the running ones report;
 * - `finished`: every job has reported (or was taken back); `failed`: an error ended the wave.
 */
export type BullMqWavePhase = 'catching up' | 'running' | 'draining' | 'finished' | 'failed';

/** What a wave uses of its `BullMqExecutor`: the queue, the connections and the run's stored context. */
export interface BullMqWaveDeps {
  queue: Queue;
  /** For commands. */
  redis: Redis;
  /** For the blocking reads of the outcome stream. */
  reader: Redis;
  keys: RunKeys;
  /** Jobs in the queue at once. */
  maxQueuedJobs: number;
  /** How often lost and failed jobs are looked for, in ms. */
  reconcileIntervalMs: number;
  /** Warn when nothing came back for this long and no worker is connected, in ms. */
  idleWarningMs: number;
  emit: (event: string, fields: Record<string, unknown>) => void;
  /** Fields of the `waiting for workers` event (queue, redacted Redis URL, hint). */
  idleWarningFields: Record<string, unknown>;
  /** Stores the run context again (and forgets which examples are stored) after Redis lost them. */
  restoreContext(): Promise<void>;
  /** Stores the few-shot examples of these jobs that are not stored yet. */
  storeExamples(jobs: PairJob[]): Promise<void>;
  /** Called with the ids of jobs whose pairs the coordinator has committed (not failed ones, which a resume runs again). */
  onCommitted?(jobIds: string[]): Promise<void>;
}

/** An outcome stream entry whose job the wave has not reached yet. */
interface WaitingEntry {
  entryId: string;
  encodedOutcome: Buffer;
}

/**
 * One `BullMqExecutor.run` call: a wave of pair jobs through the queue, as a small state machine
 * (see `BullMqWavePhase`). Jobs are pulled from their source only as the queue has room, so the
 * wave holds the jobs in the queue (at most `maxQueuedJobs`), never the whole wave. Each job's
 * outcome is handed on exactly once: a duplicate stream entry (a job re-run after its worker
 * died) is dropped by job id, and an entry is deleted only after `onOutcome` has written it.
 */
export class BullMqWave {
  phase: BullMqWavePhase = 'catching up';
  /** Added to the queue and not yet reported: what counts against `maxQueuedJobs`. */
  private readonly inQueue = new Map<string, PairJob>();
  /**
   * Outcome entries of jobs the wave has not pulled yet (jobs an earlier coordinator added, that
   * finished while no coordinator listened or after this one started): handed on when the source
   * reaches their job instead of adding it again; those it never reaches are deleted when the wave
   * finishes (kept in the stream when it drained). Bounded by what an earlier coordinator had in
   * the queue, plus duplicates.
   */
  private readonly waiting = new Map<string, WaitingEntry>();
  /** Jobs handed on while catching up: later passes over the source skip them. */
  private readonly caughtUp = new Set<string>();
  private source: AsyncIterator<PairJob> | undefined;
  private sourceDone = false;
  /** Stream position: entries after it are new. */
  private lastEntryId = '0';
  private lastProgressAt = Date.now();
  private lastIdleWarningAt = 0;

  constructor(
    private readonly deps: BullMqWaveDeps,
    private readonly jobs: PairJobSource,
    private readonly onOutcome: (outcome: PairOutcome) => Promise<void>,
  ) {}

  /** Runs the wave to `finished` (or throws, `failed`). */
  async run(signal?: AbortSignal): Promise<void> {
    try {
      if (signal?.aborted) {
        this.phase = 'finished';
        return;
      }
      await this.catchUp();
      this.phase = 'running';
      this.source = iteratePairJobs(this.jobs);
      await this.topUp();
      let nextReconcileAt = Date.now() + this.deps.reconcileIntervalMs;
      while (this.inQueue.size > 0 || (this.phase === 'running' && !this.sourceDone)) {
        if (signal?.aborted && this.phase === 'running') {
          await this.drain();
          continue;
        }
        await this.readOutcomes(Math.max(1, Math.min(500, nextReconcileAt - Date.now())));
        await this.topUp();
        if (Date.now() >= nextReconcileAt && this.inQueue.size > 0) {
          await this.reconcile();
          nextReconcileAt = Date.now() + this.deps.reconcileIntervalMs;
        }
      }
      // A drained wave did not reach every job: what waits stays in the stream for the next one.
      if (this.phase === 'running') await this.dropWaiting();
      this.waiting.clear();
      this.phase = 'finished';
    } catch (error) {
      // Stop the rest: jobs not started yet leave the queue (resume adds them again).
      if (this.phase !== 'draining') await this.takeBackUnstarted().catch(() => {});
      this.phase = 'failed';
      throw error;
    } finally {
      await this.source?.return?.();
    }
  }

  /** Reads what is in the stream, then hands on the outcomes of this wave's jobs in one pass over the source. */
  private async catchUp(): Promise<void> {
    while ((await this.readOutcomes(undefined)) > 0);
    if (this.waiting.size === 0) return;
    const pass = iteratePairJobs(this.jobs);
    try {
      const committed: string[] = [];
      for (let next = await pass.next(); !next.done && this.waiting.size > 0; next = await pass.next()) {
        const id = bullMqJobId(next.value);
        const entry = this.waiting.get(id);
        if (!entry) continue;
        this.caughtUp.add(id);
        if (await this.deliverWaiting(id, next.value, entry)) committed.push(id);
      }
      if (committed.length) await this.deps.onCommitted?.(committed);
    } finally {
      await pass.return?.();
    }
  }

  /** Hands on a waiting entry's outcome, then deletes the entry; true when the pair was committed. */
  private async deliverWaiting(id: string, job: PairJob, entry: WaitingEntry): Promise<boolean> {
    const outcome = decodeOutcome(entry.encodedOutcome);
    checkOutcomeMatches(id, job, outcome);
    this.waiting.delete(id);
    await this.deliver(outcome);
    await this.deps.redis.xdel(this.deps.keys.outcomes, entry.entryId);
    return outcome.status !== 'failed';
  }

  private settle(id: string): void {
    this.inQueue.delete(id);
  }

  private async deliver(outcome: PairOutcome): Promise<void> {
    await this.onOutcome(outcome);
    this.lastProgressAt = Date.now();
  }

  /**
   * Reads outcome entries after `lastEntryId`: delivers those of jobs in the queue (and deletes
   * them), keeps those of jobs not reached yet in `waiting` (or, draining, in the stream), and
   * deletes the rest (duplicates of outcomes handed on).
   */
  private async readOutcomes(blockMs: number | undefined): Promise<number> {
    const { keys } = this.deps;
    const entries = await readOutcomeStreamEntries(this.deps.reader, keys.outcomes, this.lastEntryId, blockMs);
    const handled: string[] = [];
    const committed: string[] = [];
    for (const { entryId, jobId, encodedOutcome } of entries) {
      this.lastEntryId = entryId;
      const job = jobId === undefined ? undefined : this.inQueue.get(jobId);
      if (jobId !== undefined && job) {
        const outcome = decodeOutcome(encodedOutcome);
        checkOutcomeMatches(jobId, job, outcome);
        this.settle(jobId);
        await this.deliver(outcome);
        if (outcome.status !== 'failed') committed.push(jobId);
      } else if (jobId !== undefined && !this.caughtUp.has(jobId) && !this.waiting.has(jobId)) {
        // Draining, the source is not pulled any more: the entry stays for the next wave or session.
        if (this.phase !== 'draining') this.waiting.set(jobId, { entryId, encodedOutcome });
        continue;
      }
      handled.push(entryId);
    }
    if (handled.length) await this.deps.redis.xdel(keys.outcomes, ...handled);
    if (committed.length) await this.deps.onCommitted?.(committed);
    return entries.length;
  }

  /** Deletes the entries of jobs this wave never reached (another wave's, or pairs finished since). */
  private async dropWaiting(): Promise<void> {
    const entryIds = [...this.waiting.values()].map((entry) => entry.entryId);
    this.waiting.clear();
    if (entryIds.length) await this.deps.redis.xdel(this.deps.keys.outcomes, ...entryIds);
  }

  private async addJobs(jobs: PairJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const { queue, redis } = this.deps;
    const ids = jobs.map((job) => bullMqJobId(job));
    await this.deps.storeExamples(jobs);
    // A job that failed for good in an earlier session stays in the failed set under its id,
    // and adding the id again would be a no-op: remove it first so the pair is tried again.
    const failedCheck = redis.pipeline();
    for (const id of ids) failedCheck.zscore(queue.keys.failed, id);
    for (const [index, [, score]] of ((await failedCheck.exec()) ?? []).entries()) {
      if (score !== null) await queue.remove(ids[index]);
    }
    await queue.addBulk(
      jobs.map((job, index) => ({ name: 'pair', data: toQueuedPairJob(job), opts: { jobId: ids[index] } })),
    );
    for (const [index, job] of jobs.entries()) this.inQueue.set(ids[index], job);
  }

  /**
   * Pulls jobs from the source while the queue has room and adds them; a job whose outcome is
   * already waiting is handed on instead.
   */
  private async topUp(): Promise<void> {
    if (this.phase !== 'running' || this.sourceDone || !this.source) return;
    const batch: PairJob[] = [];
    const committed: string[] = [];
    while (this.inQueue.size + batch.length < this.deps.maxQueuedJobs) {
      const next = await this.source.next();
      if (next.done) {
        this.sourceDone = true;
        break;
      }
      const id = bullMqJobId(next.value);
      if (this.caughtUp.has(id) || this.inQueue.has(id)) continue;
      const entry = this.waiting.get(id);
      if (entry) {
        if (await this.deliverWaiting(id, next.value, entry)) committed.push(id);
        continue;
      }
      batch.push(next.value);
    }
    await this.addJobs(batch);
    if (committed.length) await this.deps.onCommitted?.(committed);
  }

  /** Adds back jobs that vanished from Redis, reports jobs that failed for good, warns when no worker listens. */
  private async reconcile(): Promise<void> {
    const { redis, queue, keys, emit } = this.deps;
    const inspection = await inspectQueuedPairJobs(redis, queue, keys, [...this.inQueue.keys()]);
    // Workers add the outcome before the job leaves Redis, so anything missing above that
    // finished is in the stream now.
    while ((await this.readOutcomes(undefined)) > 0);
    if (inspection.contextMissing || inspection.examplesMissing) await this.deps.restoreContext();
    const lost: PairJob[] = [];
    for (const { id, exists, failedScore, failedReason } of inspection.jobs) {
      const job = this.inQueue.get(id);
      if (!job) continue;
      if (exists === 0) lost.push(job);
      else if (failedScore !== null) {
        const reason = String(failedReason ?? 'failed in the queue');
        if (reason.startsWith(ENDPOINT_UNREACHABLE_REASON)) {
          throw new EndpointUnreachableError(reason.slice(ENDPOINT_UNREACHABLE_REASON.length).trim() || reason);
        }
        emit('job failed in queue', { job_id: id, reason });
        this.settle(id);
        await this.deliver(createQueueFailureOutcome(job, reason));
      }
    }
    if (lost.length && this.phase === 'draining') {
      for (const job of lost) this.settle(bullMqJobId(job)); // not started, and no more are being added
    } else if (lost.length) {
      emit('jobs re-enqueued', { run_id: lost[0].run_id, count: lost.length, reason: 'missing from Redis' });
      await this.addJobs(lost);
    }
    await this.warnWhenIdle();
  }

  private async warnWhenIdle(): Promise<void> {
    const now = Date.now();
    if (now - this.lastProgressAt <= this.deps.idleWarningMs || now - this.lastIdleWarningAt <= 60_000) return;
    this.lastIdleWarningAt = now;
    if ((await this.deps.queue.getWorkersCount()) === 0) {
      this.deps.emit('waiting for workers', { ...this.deps.idleWarningFields, pending: this.inQueue.size });
    }
  }

  /** On abort: pull nothing more, deliver what is back, and take back the jobs no worker has started. */
  private async drain(): Promise<void> {
    this.phase = 'draining';
    // Outcomes already back are delivered first (removing a finished job would report success).
    while ((await this.readOutcomes(undefined)) > 0);
    await this.takeBackUnstarted();
  }

  private async takeBackUnstarted(): Promise<void> {
    for (const id of [...this.inQueue.keys()]) {
      if ((await this.deps.queue.remove(id)) === 1) this.settle(id);
    }
  }
}

function checkOutcomeMatches(jobId: string, job: PairJob, outcome: PairOutcome): void {
  if (outcome.pair_id !== job.pair.id || outcome.iteration !== job.iteration) {
    throw new Error(`outcome for job ${jobId} names pair ${outcome.pair_id} iteration ${outcome.iteration}`);
  }
}
