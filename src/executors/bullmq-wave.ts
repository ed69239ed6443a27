import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PairJob } from '../schemas/pair-job.ts';
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
 *   resume) are taken first, so their jobs are not added (and run) again;
 * - `running`: jobs are added as room in the queue allows, outcomes are read and handed on, and
 *   every reconcile interval lost jobs are added again and jobs that failed for good reported;
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

/**
 * One `BullMqExecutor.run` call: a wave of pair jobs through the queue, as a small state machine
 * (see `BullMqWavePhase`). Each pending job's outcome is handed on exactly once: a duplicate
 * stream entry (a job re-run after its worker died) is dropped by job id, and an entry is deleted
 * only after `onOutcome` has written it.
 */
export class BullMqWave {
  phase: BullMqWavePhase = 'catching up';
  private readonly byId: Map<string, PairJob>;
  /** Not yet reported: the wave is over when this is empty. */
  private readonly pending: Set<string>;
  /** Added to the queue at least once. */
  private readonly added = new Set<string>();
  /** Added and not yet reported: what counts against `maxQueuedJobs`. */
  private readonly inQueue = new Set<string>();
  /** Job ids in the order they are added; `nextToAdd` is the first not added yet. */
  private readonly toAdd: string[];
  private nextToAdd = 0;
  /** Stream position: entries after it are new. */
  private lastEntryId = '0';
  private lastProgressAt = Date.now();
  private lastIdleWarningAt = 0;

  constructor(
    private readonly deps: BullMqWaveDeps,
    jobs: readonly PairJob[],
    private readonly onOutcome: (outcome: PairOutcome) => Promise<void>,
  ) {
    this.byId = new Map(jobs.map((job) => [bullMqJobId(job), job]));
    this.pending = new Set(this.byId.keys());
    this.toAdd = [...this.byId.keys()];
  }

  /** Runs the wave to `finished` (or throws, `failed`). */
  async run(signal?: AbortSignal): Promise<void> {
    try {
      if (signal?.aborted) {
        this.phase = 'finished';
        return;
      }
      while ((await this.readOutcomes(undefined)) > 0);
      this.phase = 'running';
      await this.topUp();
      let nextReconcileAt = Date.now() + this.deps.reconcileIntervalMs;
      while (this.pending.size > 0) {
        if (signal?.aborted && this.phase === 'running') {
          await this.drain();
          continue;
        }
        await this.readOutcomes(Math.max(1, Math.min(500, nextReconcileAt - Date.now())));
        await this.topUp();
        if (Date.now() >= nextReconcileAt && this.pending.size > 0) {
          await this.reconcile();
          nextReconcileAt = Date.now() + this.deps.reconcileIntervalMs;
        }
      }
      this.phase = 'finished';
    } catch (error) {
      // Stop the rest: jobs not started yet leave the queue (resume adds them again).
      if (this.phase !== 'draining') await this.takeBackUnstarted().catch(() => {});
      this.phase = 'failed';
      throw error;
    }
  }

  private settle(id: string): void {
    this.pending.delete(id);
    this.inQueue.delete(id);
  }

  private async deliver(outcome: PairOutcome): Promise<void> {
    await this.onOutcome(outcome);
    this.lastProgressAt = Date.now();
  }

  /** Reads outcome entries after `lastEntryId`; delivers the pending ones, deletes them all. */
  private async readOutcomes(blockMs: number | undefined): Promise<number> {
    const { keys } = this.deps;
    const entries = await readOutcomeStreamEntries(this.deps.reader, keys.outcomes, this.lastEntryId, blockMs);
    const handled: string[] = [];
    const committed: string[] = [];
    for (const { entryId, jobId, encodedOutcome } of entries) {
      this.lastEntryId = entryId;
      if (jobId !== undefined && this.pending.has(jobId)) {
        const outcome = decodeOutcome(encodedOutcome);
        const job = this.byId.get(jobId)!;
        if (outcome.pair_id !== job.pair.id || outcome.iteration !== job.iteration) {
          throw new Error(`outcome for job ${jobId} names pair ${outcome.pair_id} iteration ${outcome.iteration}`);
        }
        this.settle(jobId);
        await this.deliver(outcome);
        if (outcome.status !== 'failed') committed.push(jobId);
      }
      handled.push(entryId);
    }
    if (handled.length) await this.deps.redis.xdel(keys.outcomes, ...handled);
    if (committed.length) await this.deps.onCommitted?.(committed);
    return entries.length;
  }

  private async addJobs(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { queue, redis } = this.deps;
    await this.deps.storeExamples(ids.map((id) => this.byId.get(id)!));
    // A job that failed for good in an earlier session stays in the failed set under its id,
    // and adding the id again would be a no-op: remove it first so the pair is tried again.
    const failedCheck = redis.pipeline();
    for (const id of ids) failedCheck.zscore(queue.keys.failed, id);
    for (const [index, [, score]] of ((await failedCheck.exec()) ?? []).entries()) {
      if (score !== null) await queue.remove(ids[index]);
    }
    await queue.addBulk(
      ids.map((id) => ({ name: 'pair', data: toQueuedPairJob(this.byId.get(id)!), opts: { jobId: id } })),
    );
    for (const id of ids) {
      this.added.add(id);
      if (this.pending.has(id)) this.inQueue.add(id);
    }
  }

  /** Adds the next jobs while the queue has room. */
  private async topUp(): Promise<void> {
    if (this.phase !== 'running') return;
    const room = this.deps.maxQueuedJobs - this.inQueue.size;
    if (room <= 0 || this.nextToAdd >= this.toAdd.length) return;
    const batch = this.toAdd.slice(this.nextToAdd, this.nextToAdd + room).filter((id) => this.pending.has(id));
    this.nextToAdd = Math.min(this.toAdd.length, this.nextToAdd + room);
    await this.addJobs(batch);
  }

  /** Adds back jobs that vanished from Redis, reports jobs that failed for good, warns when no worker listens. */
  private async reconcile(): Promise<void> {
    const { redis, queue, keys, emit } = this.deps;
    const ids = [...this.pending].filter((id) => this.added.has(id));
    const inspection = await inspectQueuedPairJobs(redis, queue, keys, ids);
    // Workers add the outcome before the job leaves Redis, so anything missing above that
    // finished is in the stream now.
    while ((await this.readOutcomes(undefined)) > 0);
    if (inspection.contextMissing || inspection.examplesMissing) await this.deps.restoreContext();
    const lost: string[] = [];
    for (const { id, exists, failedScore, failedReason } of inspection.jobs) {
      if (!this.pending.has(id)) continue;
      if (exists === 0) lost.push(id);
      else if (failedScore !== null) {
        const reason = String(failedReason ?? 'failed in the queue');
        if (reason.startsWith(ENDPOINT_UNREACHABLE_REASON)) {
          throw new EndpointUnreachableError(reason.slice(ENDPOINT_UNREACHABLE_REASON.length).trim() || reason);
        }
        emit('job failed in queue', { job_id: id, reason });
        this.settle(id);
        await this.deliver(createQueueFailureOutcome(this.byId.get(id)!, reason));
      }
    }
    if (lost.length && this.phase === 'draining') {
      for (const id of lost) this.settle(id); // not started, and no more are being added
    } else if (lost.length) {
      emit('jobs re-enqueued', {
        run_id: this.byId.get(lost[0])!.run_id,
        count: lost.length,
        reason: 'missing from Redis',
      });
      await this.addJobs(lost);
    }
    await this.warnWhenIdle();
  }

  private async warnWhenIdle(): Promise<void> {
    const now = Date.now();
    if (now - this.lastProgressAt <= this.deps.idleWarningMs || now - this.lastIdleWarningAt <= 60_000) return;
    this.lastIdleWarningAt = now;
    if ((await this.deps.queue.getWorkersCount()) === 0) {
      this.deps.emit('waiting for workers', { ...this.deps.idleWarningFields, pending: this.pending.size });
    }
  }

  /** On abort: add nothing more, deliver what is back, and take back the jobs no worker has started. */
  private async drain(): Promise<void> {
    this.phase = 'draining';
    // Outcomes already back are delivered first (removing a finished job would report success).
    while ((await this.readOutcomes(undefined)) > 0);
    await this.takeBackUnstarted();
  }

  private async takeBackUnstarted(): Promise<void> {
    for (const id of [...this.pending]) {
      if (!this.added.has(id) || (await this.deps.queue.remove(id)) === 1) this.settle(id);
    }
  }
}
