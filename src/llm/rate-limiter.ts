/** A granted request: call `release` exactly once when the request is over. */
export interface RateLimitLease {
  /** Frees the in-flight slot and charges the request's real token count (when known). */
  release(actualTokens?: number): void;
}

/**
 * Limits of one LLM endpoint shared with other processes (requests in flight, requests and
 * tokens per minute). The port the LLM stack asks before each request; `RedisRateLimiter`
 * (src/executors/redis) is the implementation the BullMQ coordinator and workers share.
 */
export interface RateLimiter {
  /** Whether a tokens-per-minute limit is set, so that `acquire` needs a token estimate. */
  readonly countsTokens: boolean;
  /** Waits for a slot for a request estimated at `estimatedTokens` (prompt + max output). */
  acquire(estimatedTokens: number, signal?: AbortSignal): Promise<RateLimitLease>;
}
