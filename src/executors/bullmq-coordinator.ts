import type { ResponseCache } from '../llm/response-cache.ts';
import type { LlmStores } from '../llm/build-llm-stack.ts';
import type { RateLimits } from '../llm/rate-limits.ts';
import { sharedEndpointOf } from '../llm/shared-endpoint.ts';
import { ConfigError } from '../errors.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { ExecutorFactory } from '../pipeline/executor.ts';
import { BullMqExecutor, type BullMqExecutorOptions } from './bullmq-executor.ts';
import { DEFAULT_KEY_PREFIX, PAIR_JOBS_QUEUE } from './bullmq-keys.ts';
import { RedisResponseCache } from './redis/redis-response-cache.ts';
import { RedisRateLimiter } from './redis/redis-rate-limiter.ts';
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
  /** For `PipelineDeps.createExecutor`: a `BullMqExecutor` that stores the runner's context for the workers. */
  createExecutor: ExecutorFactory;
  /** For `PipelineDeps.stores`: the response cache the workers share and, for an endpoint, the limits they share. */
  storesFor(config: RunConfig): LlmStores;
  /** The response cache the workers share. */
  responseCache: ResponseCache;
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

  const responseCache = new RedisResponseCache(redis, { prefix, ttlSeconds: options.cacheTtlSeconds });
  return {
    createExecutor: (runner) =>
      new BullMqExecutor({
        ...options.executor,
        redisUrl: options.redisUrl,
        prefix,
        context: runner.context,
        onEvent: emit,
      }),
    responseCache,
    storesFor(config) {
      const endpoint = sharedEndpointOf(config.llm);
      // A local model is this machine's alone: no limits to share.
      if (endpoint === undefined) return { responseCache };
      const rateLimiter = new RedisRateLimiter(redis, {
        endpoint,
        prefix,
        maxInFlight: options.limits?.maxInFlight ?? config.llm.max_in_flight,
        requestsPerMinute: options.limits?.requestsPerMinute,
        tokensPerMinute: options.limits?.tokensPerMinute,
      });
      return { responseCache, rateLimiter };
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
