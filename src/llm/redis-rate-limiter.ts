import { randomUUID, createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimits } from './rate-limits.ts';

export interface RedisRateLimiterOptions extends RateLimits {
  /**
   * The endpoint the limits belong to, e.g. its base URL. Only a hash of it appears in key names,
   * so processes that name the same endpoint share one budget.
   */
  endpoint: string;
  /** Key prefix of the deployment. @defaultValue 'pf' */
  prefix?: string;
  /**
   * How long an in-flight slot is held without renewal, in ms. A live holder renews it every
   * third of this; a killed process's slots come back after it. @defaultValue 30000
   */
  leaseMs?: number;
  /** Longest single wait before asking Redis again, in ms. @defaultValue 1000 */
  maxPollMs?: number;
}

/** A granted request: call `release` exactly once when the request is over. */
export interface RateLimitLease {
  /** Frees the in-flight slot and charges the request's real token count (when known). */
  release(actualTokens?: number): void;
}

// Clock: Redis' own TIME, so workers on machines with skewed clocks agree.
// Returns 0 when granted, -1 when every in-flight slot is taken, else the ms to wait for tokens.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxInFlight, rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost, leaseMs = tonumber(ARGV[4]), tonumber(ARGV[5])
if maxInFlight > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= maxInFlight then return -1 end
end
local function level(key, rate)
  local state = redis.call('HMGET', key, 'level', 'at')
  local stored, at = tonumber(state[1]), tonumber(state[2])
  if stored == nil then return rate end
  return math.min(rate, stored + (now - at) * rate / 60000)
end
local wait, requests, tokens = 0, 0, 0
if rpm > 0 then
  requests = level(KEYS[2], rpm)
  if requests < 1 then wait = math.max(wait, math.ceil((1 - requests) * 60000 / rpm)) end
end
if tpm > 0 then
  tokens = level(KEYS[3], tpm)
  local need = math.min(cost, tpm)
  if tokens < need then wait = math.max(wait, math.ceil((need - tokens) * 60000 / tpm)) end
end
if wait > 0 then return wait end
if rpm > 0 then
  redis.call('HSET', KEYS[2], 'level', requests - 1, 'at', now)
  redis.call('PEXPIRE', KEYS[2], 120000)
end
if tpm > 0 then
  redis.call('HSET', KEYS[3], 'level', tokens - cost, 'at', now)
  redis.call('PEXPIRE', KEYS[3], 120000)
end
if maxInFlight > 0 then
  redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[6])
  redis.call('PEXPIRE', KEYS[1], leaseMs * 2)
end
return 0
`;

// Frees the slot and moves the token bucket by (reserved - actual), never above a full minute.
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local tpm, delta = tonumber(ARGV[2]), tonumber(ARGV[3])
if tpm > 0 and delta ~= 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local state = redis.call('HMGET', KEYS[2], 'level', 'at')
  local current = math.min(tpm, tonumber(state[1]) + (now - tonumber(state[2])) * tpm / 60000)
  redis.call('HSET', KEYS[2], 'level', math.min(tpm, current + delta), 'at', now)
end
return 1
`;

// Extends a live lease; a lease that already expired is not brought back.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
`;

type LimiterCommands = {
  pfLimitAcquire(inFlight: string, requests: string, tokens: string, ...args: Array<string | number>): Promise<number>;
  pfLimitRelease(inFlight: string, tokens: string, ...args: Array<string | number>): Promise<number>;
  pfLimitRenew(inFlight: string, ...args: Array<string | number>): Promise<number>;
};

/**
 * Rate limits of one LLM endpoint shared by every worker through Redis: a distributed semaphore
 * for requests in flight (a sorted set of leases that expire, so a killed worker's slots come
 * back) and token buckets for requests and tokens per minute, all taken atomically in one Lua
 * script. Waiters poll with jittered backoff.
 */
export class RedisRateLimiter {
  readonly limits: Required<Pick<RedisRateLimiterOptions, 'leaseMs' | 'maxPollMs'>> & RateLimits;
  private readonly keys: { inFlight: string; requests: string; tokens: string };
  private readonly redis: Redis & LimiterCommands;

  constructor(redis: Redis, options: RedisRateLimiterOptions) {
    for (const field of ['maxInFlight', 'requestsPerMinute', 'tokensPerMinute', 'leaseMs', 'maxPollMs'] as const) {
      const value = options[field];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new TypeError(`Expected \`${field}\` to be a positive integer, got ${value}.`);
      }
    }
    this.limits = {
      maxInFlight: options.maxInFlight,
      requestsPerMinute: options.requestsPerMinute,
      tokensPerMinute: options.tokensPerMinute,
      leaseMs: options.leaseMs ?? 30_000,
      maxPollMs: options.maxPollMs ?? 1_000,
    };
    const endpointId = createHash('sha256').update(options.endpoint).digest('hex').slice(0, 16);
    const base = `${options.prefix ?? 'pf'}:limits:${endpointId}`;
    this.keys = { inFlight: `${base}:in-flight`, requests: `${base}:rpm`, tokens: `${base}:tpm` };
    const commands = redis as Redis & Partial<LimiterCommands>;
    if (!commands.pfLimitAcquire) {
      redis.defineCommand('pfLimitAcquire', { numberOfKeys: 3, lua: ACQUIRE });
      redis.defineCommand('pfLimitRelease', { numberOfKeys: 2, lua: RELEASE });
      redis.defineCommand('pfLimitRenew', { numberOfKeys: 1, lua: RENEW });
    }
    this.redis = redis as Redis & LimiterCommands;
  }

  /** True when no limit is set (the limiter then grants everything without asking Redis). */
  get unlimited(): boolean {
    return !this.limits.maxInFlight && !this.limits.requestsPerMinute && !this.limits.tokensPerMinute;
  }

  /** Waits until one request reserving `estimatedTokens` may start. Rejects when `signal` aborts. */
  async acquire(estimatedTokens: number, signal?: AbortSignal): Promise<RateLimitLease> {
    if (this.unlimited) return { release: () => {} };
    const { maxInFlight, requestsPerMinute, tokensPerMinute, leaseMs, maxPollMs } = this.limits;
    const leaseId = randomUUID();
    const reserved = Math.max(1, Math.ceil(estimatedTokens));
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const wait = await this.redis.pfLimitAcquire(
        this.keys.inFlight, this.keys.requests, this.keys.tokens,
        maxInFlight ?? 0, requestsPerMinute ?? 0, tokensPerMinute ?? 0, reserved, leaseMs, leaseId,
      );
      if (wait === 0) return this.lease(leaseId, reserved);
      // A full semaphore frees up when some request ends: poll soon, backing off to spread waiters.
      const base = wait < 0 ? Math.min(2 * 2 ** Math.min(attempt, 5), 50) : Math.min(wait, maxPollMs);
      await sleep(base * (0.75 + Math.random() * 0.5), signal);
    }
  }

  private lease(leaseId: string, reserved: number): RateLimitLease {
    const { maxInFlight, tokensPerMinute, leaseMs } = this.limits;
    const renewal = maxInFlight
      ? setInterval(() => {
          this.redis.pfLimitRenew(this.keys.inFlight, leaseId, leaseMs).catch(() => {});
        }, Math.max(1, Math.floor(leaseMs / 3)))
      : undefined;
    renewal?.unref();
    let released = false;
    return {
      release: (actualTokens?: number) => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        const delta = actualTokens !== undefined && actualTokens > 0 ? reserved - Math.ceil(actualTokens) : 0;
        // Not awaited: a slot freed a little later is only more conservative; errors mean Redis
        // is gone, and then the lease expires on its own.
        this.redis.pfLimitRelease(this.keys.inFlight, this.keys.tokens, leaseId, tokensPerMinute ?? 0, delta).catch(() => {});
      },
    };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
