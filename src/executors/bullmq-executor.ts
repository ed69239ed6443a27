import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { iteratePairJobs, type Executor, type PairJobSource } from '../pipeline/executor.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { PairJobContext } from '../schemas/run-context.ts';
import { DEFAULT_KEY_PREFIX, PAIR_JOBS_QUEUE, runKeys, type RunKeys } from './bullmq-keys.ts';
import { BullMqWave } from './bullmq-wave.ts';
import { createRedisClient, parseRedisUrl, redactRedisUrl } from './redis/redis-connection.ts';
import { saveRunContext } from './run-context-store.ts';
import { dropCommittedPairReplies } from './redis/redis-response-cache.ts';

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

  /** Runs one wave of jobs through the queue (see `BullMqWave` for its phases). */
  async run(
    jobs: PairJobSource,
    onOutcome: (outcome: PairOutcome) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    const first = iteratePairJobs(jobs);
    const peeked = await first.next();
    await first.return?.();
    if (peeked.done) return;
    const runId = peeked.value.run_id;
    const keys = runKeys(this.prefix, runId);
    await this.storeContext(runId, keys);
    const wave = new BullMqWave(
      {
        queue: this.queue,
        redis: this.redis,
        reader: this.reader,
        keys,
        maxQueuedJobs: this.settings.maxQueuedJobs,
        reconcileIntervalMs: this.settings.reconcileIntervalMs,
        idleWarningMs: this.settings.idleWarningMs,
        emit: this.emit,
        idleWarningFields: {
          queue: `${this.prefix}:${PAIR_JOBS_QUEUE}`,
          redis: redactRedisUrl(this.options.redisUrl),
          hint: 'start one with: persona-forge worker --redis <url>',
        },
        // The cached replies of committed pairs are of no use to a resume: Redis memory stays flat.
        onCommitted: async (jobIds) => {
          await dropCommittedPairReplies(this.redis, this.prefix, jobIds);
        },
        restoreContext: async () => {
          this.storedExamples.clear();
          await this.storeContext(runId, keys);
        },
        storeExamples: (waveJobs) => this.storeExamples(keys, waveJobs),
      },
      jobs,
      onOutcome,
    );
    await wave.run(signal);
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
