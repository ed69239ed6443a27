import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Executor } from '../pipeline/executor.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { PairJobContext } from '../schemas/run-context.ts';
import { EndpointUnreachableError } from '../errors.ts';
import { bullMqJobId } from './bullmq-job-id.ts';
import {
  DEFAULT_KEY_PREFIX,
  ENDPOINT_UNREACHABLE_REASON,
  PAIR_JOBS_QUEUE,
  runKeys,
  type RunKeys,
} from './bullmq-keys.ts';
import { decodeOutcome } from './bullmq-outcome-codec.ts';
import { createQueueFailureOutcome } from './create-queue-failure-outcome.ts';
import { inspectQueuedPairJobs } from './inspect-queued-pair-jobs.ts';
import { readOutcomeStreamEntries } from './read-outcome-stream-entries.ts';
import { createRedisClient, parseRedisUrl, redactRedisUrl } from './redis/redis-connection.ts';
import { saveRunContext } from './run-context-store.ts';
import { toQueuedPairJob } from './to-queued-pair-job.ts';

export interface BullMqExecutorOptions {
  /** `redis://` or `rediss://` URL; only ever shown redacted. */
  redisUrl: string;
  /** Key prefix of the deployment (workers must use the same). @defaultValue 'pf' */
  prefix?: string;
  /** What workers need to run this run's jobs; stored in Redis under the run id (without the API key). */
  context: PairJobContext;
  /** Jobs in the queue at once; more are added as outcomes come back. @defaultValue 1000 */
  maxQueuedJobs?: number;
  /** How often jobs that vanished from Redis or failed are looked for, in ms. @defaultValue 2000 */
  reconcileIntervalMs?: number;
  /** BullMQ attempts per job (a thrown error, e.g. an unreachable endpoint, is retried). @defaultValue 3 */
  attempts?: number;
  /** First retry delay, doubled per attempt, in ms. @defaultValue 2000 */
  backoffMs?: number;
  /** Failed jobs kept in Redis for inspection. @defaultValue 1000 */
  keepFailedJobs?: number;
  /** Seconds the run's keys (context, examples, outcomes) live after the last write. @defaultValue 604800 */
  runKeyTtlSeconds?: number;
  /** Warn when nothing came back for this long and no worker is connected, in ms. @defaultValue 15000 */
  idleWarningMs?: number;
  /** Notable events: `waiting for workers`, `jobs re-enqueued`, `job failed in queue`, `redis error`. */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * Runs pair jobs on BullMQ workers (`persona-forge worker`). The coordinator side:
 * - stores the run context and the few-shot examples in Redis, and adds one job per pair to the
 *   `pair-jobs` queue with a deterministic id, so adding it twice is a no-op;
 * - reads outcomes from the run's Redis stream, hands each pending job's outcome to the
 *   coordinator exactly once (a re-run after a worker died yields a duplicate entry, dropped by
 *   job id) and deletes an entry only after `onOutcome` has written it;
 * - every `reconcileIntervalMs`, re-adds jobs that vanished from Redis (e.g. a Redis restart lost
 *   the last second of writes) and turns jobs that failed for good into `failed` outcomes.
 */
export class BullMqExecutor implements Executor {
  readonly kind = 'bullmq';
  private readonly queue: Queue;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly prefix: string;
  private readonly emit: (event: string, fields: Record<string, unknown>) => void;
  private readonly settings: Required<Omit<BullMqExecutorOptions, 'redisUrl' | 'prefix' | 'context' | 'onEvent'>>;
  private readonly storedExamples = new Set<string>();
  private closed: Promise<void> | undefined;

  constructor(private readonly options: BullMqExecutorOptions) {
    this.prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
    this.emit = options.onEvent ?? (() => {});
    this.settings = {
      maxQueuedJobs: options.maxQueuedJobs ?? 1000,
      reconcileIntervalMs: options.reconcileIntervalMs ?? 2000,
      attempts: options.attempts ?? 3,
      backoffMs: options.backoffMs ?? 2000,
      keepFailedJobs: options.keepFailedJobs ?? 1000,
      runKeyTtlSeconds: options.runKeyTtlSeconds ?? 7 * 24 * 3600,
      idleWarningMs: options.idleWarningMs ?? 15_000,
    };
    const onError = (error: Error) =>
      this.emit('redis error', { redis: redactRedisUrl(options.redisUrl), error: error.message });
    this.queue = new Queue(PAIR_JOBS_QUEUE, {
      connection: parseRedisUrl(options.redisUrl) as ConnectionOptions,
      prefix: this.prefix,
      // Events carry return values; nobody reads them here, so keep the stream short.
      streams: { events: { maxLen: 100 } },
      defaultJobOptions: {
        attempts: this.settings.attempts,
        backoff: { type: 'exponential', delay: this.settings.backoffMs },
        removeOnComplete: true,
        removeOnFail: { count: this.settings.keepFailedJobs, age: this.settings.runKeyTtlSeconds },
      },
    });
    this.queue.on('error', onError);
    this.redis = createRedisClient(options.redisUrl, { connectionName: 'persona-forge:coordinator', onError });
    this.reader = createRedisClient(options.redisUrl, { connectionName: 'persona-forge:coordinator-reader', onError });
  }

  async run(
    jobs: readonly PairJob[],
    onOutcome: (outcome: PairOutcome) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    if (jobs.length === 0) return;
    const runId = jobs[0].run_id;
    const keys = runKeys(this.prefix, runId);
    const byId = new Map(jobs.map((job) => [bullMqJobId(job), job]));
    const pending = new Set(byId.keys());
    const toAdd = [...byId.keys()];
    const added = new Set<string>();
    /** Added and not yet settled: what counts against `maxQueuedJobs`. */
    const inQueue = new Set<string>();
    const settle = (id: string) => {
      pending.delete(id);
      inQueue.delete(id);
    };
    let nextToAdd = 0;
    let lastEntryId = '0';
    let lastProgressAt = Date.now();
    let lastIdleWarningAt = 0;
    let stopped = false;

    await this.storeContext(runId, keys);

    const deliver = async (outcome: PairOutcome) => {
      await onOutcome(outcome);
      lastProgressAt = Date.now();
    };

    /** Reads outcome entries after `lastEntryId`; delivers the pending ones, deletes them all. */
    const readOutcomes = async (blockMs: number | undefined) => {
      const entries = await readOutcomeStreamEntries(this.reader, keys.outcomes, lastEntryId, blockMs);
      const handled: string[] = [];
      for (const { entryId, jobId, encodedOutcome } of entries) {
        lastEntryId = entryId;
        if (jobId !== undefined && pending.has(jobId)) {
          const outcome = decodeOutcome(encodedOutcome);
          const job = byId.get(jobId)!;
          if (outcome.pair_id !== job.pair.id || outcome.iteration !== job.iteration) {
            throw new Error(`outcome for job ${jobId} names pair ${outcome.pair_id} iteration ${outcome.iteration}`);
          }
          settle(jobId);
          await deliver(outcome);
        }
        handled.push(entryId);
      }
      if (handled.length) await this.redis.xdel(keys.outcomes, ...handled);
      return entries.length;
    };

    const addJobs = async (ids: string[]) => {
      if (ids.length === 0) return;
      await this.storeExamples(
        keys,
        ids.map((id) => byId.get(id)!),
      );
      // A job that failed for good in an earlier session stays in the failed set under its id,
      // and adding the id again would be a no-op: remove it first so the pair is tried again.
      const failedCheck = this.redis.pipeline();
      for (const id of ids) failedCheck.zscore(this.queue.keys.failed, id);
      for (const [index, [, score]] of ((await failedCheck.exec()) ?? []).entries()) {
        if (score !== null) await this.queue.remove(ids[index]);
      }
      await this.queue.addBulk(
        ids.map((id) => ({ name: 'pair', data: toQueuedPairJob(byId.get(id)!), opts: { jobId: id } })),
      );
      for (const id of ids) {
        added.add(id);
        if (pending.has(id)) inQueue.add(id);
      }
    };

    const topUp = async () => {
      if (stopped) return;
      const room = this.settings.maxQueuedJobs - inQueue.size;
      if (room <= 0 || nextToAdd >= toAdd.length) return;
      const batch = toAdd.slice(nextToAdd, nextToAdd + room).filter((id) => pending.has(id));
      nextToAdd = Math.min(toAdd.length, nextToAdd + room);
      await addJobs(batch);
    };

    const reconcile = async () => {
      const ids = [...pending].filter((id) => added.has(id));
      const inspection = await inspectQueuedPairJobs(this.redis, this.queue, keys, ids);
      // Workers add the outcome before the job leaves Redis, so anything missing above that
      // finished is in the stream now.
      while ((await readOutcomes(undefined)) > 0);
      if (inspection.contextMissing || inspection.examplesMissing) {
        this.storedExamples.clear();
        await this.storeContext(runId, keys);
      }
      const lost: string[] = [];
      for (const { id, exists, failedScore, failedReason } of inspection.jobs) {
        if (!pending.has(id)) continue;
        if (exists === 0) lost.push(id);
        else if (failedScore !== null) {
          const reason = String(failedReason ?? 'failed in the queue');
          if (reason.startsWith(ENDPOINT_UNREACHABLE_REASON)) {
            throw new EndpointUnreachableError(reason.slice(ENDPOINT_UNREACHABLE_REASON.length).trim() || reason);
          }
          this.emit('job failed in queue', { job_id: id, reason });
          settle(id);
          await deliver(createQueueFailureOutcome(byId.get(id)!, reason));
        }
      }
      if (lost.length && stopped) {
        for (const id of lost) settle(id); // not started, and no more are being added
      } else if (lost.length) {
        this.emit('jobs re-enqueued', { run_id: runId, count: lost.length, reason: 'missing from Redis' });
        await addJobs(lost);
      }
      if (Date.now() - lastProgressAt > this.settings.idleWarningMs && Date.now() - lastIdleWarningAt > 60_000) {
        lastIdleWarningAt = Date.now();
        if ((await this.queue.getWorkersCount()) === 0) {
          this.emit('waiting for workers', {
            queue: `${this.prefix}:${PAIR_JOBS_QUEUE}`,
            redis: redactRedisUrl(this.options.redisUrl),
            pending: pending.size,
            hint: 'start one with: persona-forge worker --redis <url>',
          });
        }
      }
    };

    /** On abort: add nothing more and take back the jobs no worker has started. */
    const stop = async (drain = true) => {
      stopped = true;
      // Outcomes already back are delivered first (removing a finished job would report success).
      while (drain && (await readOutcomes(undefined)) > 0);
      for (const id of [...pending]) {
        if (!added.has(id) || (await this.queue.remove(id)) === 1) settle(id);
      }
    };

    try {
      if (signal?.aborted) return;
      // Outcomes that came back while no coordinator listened (it died, this is a resume): take
      // them first, so their jobs are not added (and run) again.
      while ((await readOutcomes(undefined)) > 0);
      await topUp();
      let nextReconcileAt = Date.now() + this.settings.reconcileIntervalMs;
      while (pending.size > 0) {
        if (signal?.aborted && !stopped) {
          await stop();
          continue;
        }
        await readOutcomes(Math.max(1, Math.min(500, nextReconcileAt - Date.now())));
        await topUp();
        if (Date.now() >= nextReconcileAt && pending.size > 0) {
          await reconcile();
          nextReconcileAt = Date.now() + this.settings.reconcileIntervalMs;
        }
      }
    } catch (error) {
      // Stop the rest: jobs not started yet leave the queue (resume adds them again).
      if (!stopped) await stop(false).catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed ??= (async () => {
      await this.queue.close().catch(() => {});
      await this.redis.quit().catch(() => {});
      // The reader may sit in a blocking XREAD: drop it instead of waiting.
      this.reader.disconnect();
    })();
    return this.closed;
  }

  private async storeContext(runId: string, keys: RunKeys): Promise<void> {
    const { config, ...context } = this.options.context;
    const { api_key: _apiKey, ...llm } = config.llm;
    await saveRunContext(
      this.redis,
      keys.context,
      { ...context, run_id: runId, config: { ...config, llm }, stored_at: new Date().toISOString() },
      this.settings.runKeyTtlSeconds,
    );
  }

  private async storeExamples(keys: RunKeys, jobs: PairJob[]): Promise<void> {
    const records = new Map(
      jobs
        .flatMap((job) => job.few_shot)
        .filter((record) => !this.storedExamples.has(record.id))
        .map((record) => [record.id, record]),
    );
    if (records.size === 0) return;
    const fields = [...records.values()].flatMap((record) => [record.id, JSON.stringify(record)]);
    await this.redis
      .multi()
      .hset(keys.examples, ...fields)
      .expire(keys.examples, this.settings.runKeyTtlSeconds)
      .exec();
    for (const id of records.keys()) this.storedExamples.add(id);
  }
}
