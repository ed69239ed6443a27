import { UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { LlmBackend } from '../llm/llm-backend.ts';
import { EndpointUnreachableError } from '../errors.ts';
import { buildLlmStack, withResponseCache } from '../llm/build-llm-stack.ts';
import { faultToleranceFor } from '../llm/fault-tolerance.ts';
import { RedisResponseCache } from './redis/redis-response-cache.ts';
import { RedisRateLimiter } from './redis/redis-rate-limiter.ts';
import { RedisCommandBatch } from './redis/redis-command-batch.ts';
import type { RateLimits } from '../llm/rate-limits.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import { PoolRecordSchema, type PoolRecord } from '../schemas/conversation.ts';
import { QueuedPairJobSchema } from '../schemas/queued-pair-job.ts';
import { createPairJobRunner, type PairJobRunner } from '../pipeline/pair-job-runner.ts';
import {
  DEFAULT_KEY_PREFIX,
  ENDPOINT_UNREACHABLE_REASON,
  PAIR_JOBS_QUEUE,
  runKeys,
  type RunKeys,
} from './bullmq-keys.ts';
import { encodeOutcome } from './bullmq-outcome-codec.ts';
import { createRedisClient, parseRedisUrl, redactRedisUrl } from './redis/redis-connection.ts';
import { loadRunContext } from './run-context-store.ts';

/** The LLM adapter a worker builds for one run: its own endpoint and key, the run's model names. */
export interface WorkerBackend {
  /** The adapter; the worker wraps it in the LLM stack (`buildLlmStack`) with the shared Redis stores. */
  backend: LlmBackend;
  dispose(): Promise<void>;
  /** Identity of the endpoint for the shared limits, e.g. its base URL without credentials. */
  endpoint: string;
}

export interface BullMqWorkerOptions {
  /** `redis://` or `rediss://` URL; only ever shown redacted. */
  redisUrl: string;
  /** Key prefix of the deployment (the coordinator's). @defaultValue 'pf' */
  prefix?: string;
  /** Pair jobs this process runs at once. @defaultValue 4 */
  concurrency?: number;
  /** Builds the backend for a run from this worker's settings and the run's config. */
  createBackend(config: RunConfig): Promise<WorkerBackend>;
  /** Limits per endpoint shared by all workers; `maxInFlight` defaults to the run's `llm.max_in_flight`. */
  limits?: RateLimits;
  /** In-flight slot lease, in ms (a killed worker's slots return after it). @defaultValue 30000 */
  leaseMs?: number;
  /** BullMQ job lock, in ms: a worker that dies loses its jobs to others after about this long. @defaultValue 30000 */
  lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose worker died, in ms. @defaultValue 30000 */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails. @defaultValue 3 */
  maxStalledCount?: number;
  /** Seconds a cached LLM reply lives in Redis. @defaultValue 604800 */
  cacheTtlSeconds?: number;
  /** Worker name stored on the jobs it runs (for monitoring). */
  name?: string;
  /** Notable events (`job failed`, `job stalled`, `releasing jobs`, `redis error`) and, at debug level, `job done`. */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

export interface PairWorker {
  /** Resolves once the worker is connected and waiting for jobs. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and waits for the running ones; after `graceMs` the rest go back to the
   * queue for other workers (`release`). Then closes connections and backends. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
  /** Puts every running job back in the queue now (their LLM calls so far stay cached). */
  release(): void;
}

interface RunState {
  keys: RunKeys;
  runner: PairJobRunner;
  /**
   * With the response cache on: a runner whose cached replies are listed under the job's id, so
   * the coordinator drops them once it commits the pair (`dropCommittedPairReplies`).
   */
  runnerForJob?: (jobId: string) => PairJobRunner;
  examples: Map<string, PoolRecord>;
  dispose(): Promise<void>;
  active: number;
}

const MAX_CACHED_RUNS = 4;

/**
 * Starts a BullMQ worker for the `pair-jobs` queue. Stateless: everything about a run comes from
 * Redis (its context and few-shot examples, read once per run), the LLM endpoint from this
 * worker's own settings. Each outcome is added to the run's outcomes stream before the job
 * completes, so a job that finished is never lost; if the worker dies in between, the job is
 * run again (its LLM calls come from the shared cache) and the coordinator drops the duplicate.
 */
export async function startBullMqWorker(options: BullMqWorkerOptions): Promise<PairWorker> {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const emit = options.onEvent ?? (() => {});
  const onError = (error: Error) =>
    emit('redis error', { redis: redactRedisUrl(options.redisUrl), error: error.message });
  const redis = createRedisClient(options.redisUrl, { connectionName: 'persona-forge:worker', onError });
  const cache = new RedisResponseCache(redis, { prefix, ttlSeconds: options.cacheTtlSeconds });
  const runs = new Map<string, Promise<RunState>>();
  const keyTtlSeconds = 7 * 24 * 3600;

  const loadRun = (runId: string): Promise<RunState> => {
    let state = runs.get(runId);
    if (!state) {
      state = buildRun(runId);
      runs.set(runId, state);
      state.catch(() => runs.delete(runId));
      void evictIdleRuns();
    }
    return state;
  };

  const buildRun = async (runId: string): Promise<RunState> => {
    const keys = runKeys(prefix, runId);
    const context = await loadRunContext(redis, keys.context);
    if (!context) {
      // Retryable: a coordinator that finds its context gone (Redis lost it) stores it again.
      throw new Error(
        `no context for run ${runId} in Redis (${keys.context}): the coordinator stores it when the run starts; was Redis flushed?`,
      );
    }
    const created = await options.createBackend(context.config);
    const backend = buildLlmStack({
      adapter: created.backend,
      maxInFlight: context.config.llm.max_in_flight,
      faultTolerance: faultToleranceFor(context.config.llm, created.backend.kind),
      rateLimiter: new RedisRateLimiter(redis, {
        endpoint: created.endpoint,
        prefix,
        leaseMs: options.leaseMs,
        maxInFlight: options.limits?.maxInFlight ?? context.config.llm.max_in_flight,
        requestsPerMinute: options.limits?.requestsPerMinute,
        tokensPerMinute: options.limits?.tokensPerMinute,
      }),
    });
    // The response cache is the stack's top layer, scoped per job so the coordinator can drop a
    // committed pair's replies.
    const runnerForJob = context.config.cache.enabled
      ? (jobId: string) => createPairJobRunner(context, withResponseCache(backend, cache.forPair(jobId)))
      : undefined;
    return {
      keys,
      runner: createPairJobRunner(context, backend),
      runnerForJob,
      examples: new Map(),
      dispose: () => created.dispose(),
      active: 0,
    };
  };

  const evictIdleRuns = async () => {
    for (const [runId, state] of runs) {
      if (runs.size <= MAX_CACHED_RUNS) return;
      const run = await state.catch(() => undefined);
      if (run && run.active === 0) {
        runs.delete(runId);
        await run.dispose().catch(() => {});
      }
    }
  };

  const fewShot = async (run: RunState, ids: string[]): Promise<PoolRecord[]> => {
    const missing = [...new Set(ids.filter((id) => !run.examples.has(id)))];
    if (missing.length) {
      const values = await redis.hmget(run.keys.examples, ...missing);
      for (const [index, value] of values.entries()) {
        // Retryable: the coordinator stores examples again when it finds them gone.
        if (value === null) throw new Error(`few-shot example ${missing[index]} is missing from ${run.keys.examples}`);
        run.examples.set(missing[index], PoolRecordSchema.parse(JSON.parse(value)));
      }
    }
    return ids.map((id) => run.examples.get(id)!);
  };

  const processor = async (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<string> => {
    const parsed = QueuedPairJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id} is not a pair job: ${parsed.error.message}`);
    const data = parsed.data;
    const run = await loadRun(data.run_id);
    run.active += 1;
    try {
      const pairJob = { ...data, few_shot: await fewShot(run, data.few_shot_ids) };
      const runner = run.runnerForJob?.(job.id!) ?? run.runner;
      const outcome = await untilAborted(runner.runJob(pairJob), signal);
      if (outcome === undefined) {
        // Released on shutdown: back to the queue for another worker (if the lock is already
        // gone, the stalled-job check returns it instead).
        await job.moveToWait(token).catch(() => {});
        throw new WaitingError();
      }
      // One round trip: the cache entries of this job's calls (written behind), then the outcome.
      // The job completes only after both are stored.
      const outcomeEntry = encodeOutcome(outcome);
      const written = await RedisCommandBatch.for(redis).flushWith((pipeline) =>
        pipeline
          .xadd(run.keys.outcomes, '*', 'job', job.id!, 'o', outcomeEntry)
          .expire(run.keys.outcomes, keyTtlSeconds),
      );
      const failure = written.find(([error]) => error)?.[0];
      if (failure) throw failure;
      emit('job done', { job_id: job.id, status: outcome.status, duration_ms: outcome.duration_ms });
      // Tiny on purpose: the return value is copied into the queue's events stream.
      return outcome.status;
    } catch (error) {
      if (error instanceof EndpointUnreachableError) {
        throw new Error(`${ENDPOINT_UNREACHABLE_REASON} ${error.message}`, { cause: error });
      }
      throw error;
    } finally {
      run.active -= 1;
    }
  };

  const worker = new Worker(PAIR_JOBS_QUEUE, processor, {
    connection: parseRedisUrl(options.redisUrl) as ConnectionOptions,
    prefix,
    concurrency: options.concurrency ?? 4,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 3,
    ...(options.name ? { name: options.name } : {}),
  });
  worker.on('error', onError);
  worker.on('failed', (job, error) =>
    emit('job failed', { job_id: job?.id, attempts_made: job?.attemptsMade, error: error.message }),
  );
  worker.on('stalled', (jobId) =>
    emit('job stalled', { job_id: jobId, note: 'its worker died or blocked; it runs again' }),
  );

  let closing: Promise<void> | undefined;
  const release = () => {
    emit('releasing jobs', { note: 'running jobs go back to the queue' });
    worker.cancelAllJobs('worker shutting down');
  };
  return {
    ready: () => worker.waitUntilReady().then(() => {}),
    release,
    close(graceMs?: number) {
      closing ??= (async () => {
        const timer = graceMs === undefined ? undefined : setTimeout(release, graceMs);
        await worker.close();
        clearTimeout(timer);
        for (const state of runs.values()) await (await state.catch(() => undefined))?.dispose().catch(() => {});
        runs.clear();
        // Writes behind of jobs handed back to the queue: their calls stay cached.
        await RedisCommandBatch.for(redis)
          .flushWith()
          .catch(() => {});
        await redis.quit().catch(() => {});
      })();
      return closing;
    },
  };
}

/** Resolves with the promise's value, or with undefined as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
