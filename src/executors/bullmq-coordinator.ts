import type { LlmBackend } from '../llm/llm-backend.ts';
import type { ResponseCache } from '../llm/response-cache.ts';
import { ConfigError } from '../errors.ts';
import { RedisResponseCache } from './redis/redis-response-cache.ts';
import { RedisRateLimiter } from './redis/redis-rate-limiter.ts';
import { rateLimitBackend } from '../llm/rate-limit-backend.ts';
import { endpointIdentity, type RateLimits } from '../llm/rate-limits.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { PairJobDeps } from '../pipeline/run-pair-job.ts';
import type { Executor } from './executor.ts';
import { BullMqExecutor, type BullMqExecutorOptions } from './bullmq-executor.ts';
import { DEFAULT_KEY_PREFIX, PAIR_JOBS_QUEUE } from './bullmq-keys.ts';
import { createRedisClient, redactRedisUrl } from './redis/redis-connection.ts';
import { RedisCommandBatch } from './redis/redis-command-batch.ts';

export interface BullMqCoordinatorOptions {
  /** `redis://` or `rediss://` URL; only ever shown redacted. */
  redisUrl: string;
  /** Key prefix of the deployment (workers must use the same). @defaultValue 'pf' */
  prefix?: string;
  /** Shared endpoint limits for the coordinator's own LLM calls (pair planning). */
  limits?: RateLimits;
  /** How long to wait for Redis before giving up, in ms. @defaultValue 10000 */
  connectTimeoutMs?: number;
  /** Seconds a cached LLM reply lives in Redis. @defaultValue 604800 */
  cacheTtlSeconds?: number;
  /** Executor tuning (tests shorten the reconcile interval). */
  executor?: Partial<Omit<BullMqExecutorOptions, 'redisUrl' | 'prefix' | 'context' | 'onEvent'>>;
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

/** What `runPipeline` needs to run on BullMQ workers, plus the Redis connection it owns. */
export interface BullMqCoordinator {
  /** For `PipelineDeps.createExecutor`. */
  createExecutor(runJob: (job: PairJob) => Promise<PairOutcome>, jobDeps: PairJobDeps): Executor;
  /** For `PipelineDeps.responseCache`: the cache the workers share. */
  responseCache: ResponseCache;
  /** The coordinator's own backend under the limits the workers share. */
  limitBackend(backend: LlmBackend, config: RunConfig): LlmBackend;
  close(): Promise<void>;
}

/**
 * Connects the coordinator to Redis (failing fast with a `ConfigError` when it cannot) and
 * returns the pieces that switch `runPipeline` to BullMQ workers.
 */
export async function openBullMqCoordinator(options: BullMqCoordinatorOptions): Promise<BullMqCoordinator> {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const emit = options.onEvent ?? (() => {});
  const redacted = redactRedisUrl(options.redisUrl);
  let lastError: Error | undefined;
  const redis = createRedisClient(options.redisUrl, {
    connectionName: 'persona-forge:coordinator',
    onError: (error) => {
      lastError = error;
      emit('redis error', { redis: redacted, error: error.message });
    },
  });
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
  } catch {
    redis.disconnect();
    throw new ConfigError(
      `cannot reach Redis at ${redacted} within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}: check --redis (host, port, password, rediss:// for TLS)`,
    );
  } finally {
    clearTimeout(timer);
  }
  emit('executor ready', { executor: 'bullmq', redis: redacted, queue: `${prefix}:${PAIR_JOBS_QUEUE}` });

  return {
    createExecutor: (_runJob, jobDeps) =>
      new BullMqExecutor({
        ...options.executor,
        redisUrl: options.redisUrl,
        prefix,
        context: { config: jobDeps.config, critics: jobDeps.critics, template: jobDeps.template },
        onEvent: emit,
      }),
    responseCache: new RedisResponseCache(redis, { prefix, ttlSeconds: options.cacheTtlSeconds }),
    limitBackend(backend, config) {
      const usesEndpoint =
        config.llm.provider === 'openai' ||
        (config.llm.provider === 'auto' && config.llm.base_url !== undefined && config.llm.model_path === undefined);
      // A local model is this machine's alone: nothing to share.
      if (!usesEndpoint) return backend;
      const limiter = new RedisRateLimiter(redis, {
        endpoint: endpointIdentity(config.llm.base_url ?? 'https://api.openai.com/v1'),
        prefix,
        maxInFlight: options.limits?.maxInFlight ?? config.llm.max_in_flight,
        requestsPerMinute: options.limits?.requestsPerMinute,
        tokensPerMinute: options.limits?.tokensPerMinute,
      });
      return rateLimitBackend(backend, limiter);
    },
    close: async () => {
      // The response cache writes behind.
      await RedisCommandBatch.for(redis)
        .flushWith()
        .catch(() => {});
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
