import type { LlmBackend } from './llm-backend.ts';
import type { ResponseCache } from './response-cache.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { limitConcurrency } from './limit-concurrency.ts';
import { rateLimitBackend } from './rate-limit-backend.ts';
import { cacheResponses } from './cache-responses.ts';
import { hedgeBackend } from './hedge-backend.ts';
import { DEFAULT_RETRY_POLICY, retryBackend } from './retry-policy.ts';
import type { FaultTolerance } from './fault-tolerance.ts';

/**
 * The stores an LLM stack uses, injected by whoever runs it: file-based in a single process (the
 * run directory's `cache/responses.jsonl`), Redis-based on the BullMQ coordinator and workers.
 */
export interface LlmStores {
  /** Where replies are stored and replayed. Absent: every call is sent and paid. */
  responseCache?: ResponseCache;
  /** Limits of the endpoint shared with other processes. Absent: only this process's `maxInFlight`. */
  rateLimiter?: RateLimiter;
}

export interface LlmStackOptions extends LlmStores {
  /** The adapter that talks to the model (`OpenAiCompatibleBackend`, `LlamaCppBackend`, a test double). The caller owns and disposes it. */
  adapter: LlmBackend;
  /** `complete` calls this process keeps in flight at once (`llm.max_in_flight`). */
  maxInFlight: number;
  /**
   * Retry policy and hedging (`faultToleranceFor(config.llm, adapter.kind)`).
   * @defaultValue `DEFAULT_RETRY_POLICY`, no hedging
   */
  faultTolerance?: FaultTolerance;
}

/**
 * Builds the LLM stack: the one place where an adapter is wrapped for use, in one fixed order.
 * A request goes through the layers from the top; a reply comes back up:
 *
 * 1. usage accounting: not built here, because it counts per consumer: `runPairJob` and the pair
 *    planner each wrap the stack in `recordUsage`, so a cache hit is recorded with `calls: 0`;
 * 2. response cache: a stored reply returns at once, taking no rate-limit slot and costing nothing;
 * 3. retries (`retryBackend`, the one retry policy): between the cache and the limits, so each
 *    attempt takes its own slot, a backoff wait holds none, and only the final reply is cached;
 * 4. shared rate limiter (Redis): requests in flight and per-minute budgets across processes;
 * 5. local concurrency limit: at most `maxInFlight` calls in flight from this process;
 * 6. hedging (`hedgeBackend`), right around the adapter, so the deadlines it learns are the
 *    endpoint's latencies and not queue waits (hedge copies are the requests beyond the limit);
 * 7. the adapter.
 *
 * Every layer is a decorator of the `LlmBackend` port; none owns the adapter.
 */
export function buildLlmStack(options: LlmStackOptions): LlmBackend {
  const hedging = options.faultTolerance?.hedging;
  let backend = limitConcurrency(
    hedging ? hedgeBackend(options.adapter, hedging) : options.adapter,
    options.maxInFlight,
  );
  if (options.rateLimiter) backend = rateLimitBackend(backend, options.rateLimiter);
  backend = retryBackend(backend, options.faultTolerance?.retryPolicy ?? DEFAULT_RETRY_POLICY);
  return options.responseCache ? withResponseCache(backend, options.responseCache) : backend;
}

/**
 * Layer 2 of the stack, for a cache scoped narrower than the stack it wraps: a BullMQ worker
 * builds one stack per run (so its limits are shared by all its jobs) and wraps it here per job,
 * in a cache that lists the job's replies (`RedisResponseCache.forPair`). The same layer
 * `buildLlmStack` adds when given `responseCache`; `stack` must come from `buildLlmStack` without one.
 */
export function withResponseCache(stack: LlmBackend, responseCache: ResponseCache): LlmBackend {
  return cacheResponses(stack, responseCache);
}
