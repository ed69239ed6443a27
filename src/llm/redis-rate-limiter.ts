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
 * script. The requests waiting in one process queue here (FIFO) and only the first of them asks
 * Redis, with jittered backoff; a release in this process wakes it at once. (When every waiting
 * request polled on its own, the workers in `bench/` sent ~8.7 scripts per LLM call instead of
 * ~3, and 25–35 % more CPU per call.)
 */
export class RedisRateLimiter {
  readonly limits: Required<Pick<RedisRateLimiterOptions, 'leaseMs' | 'maxPollMs'>> & RateLimits;
  private readonly keys: { inFlight: string; requests: string; tokens: string };
  private readonly redis: Redis & LimiterCommands;
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private wakeUp: (() => void) | undefined;
  /** Leases released in this process since the last acquire attempt: how many waiters to try next. */
  private releasedSinceAttempt = 0;

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
    signal?.throwIfAborted();
    return new Promise<RateLimitLease>((resolve, reject) => {
      const waiter: Waiter = { reserved: Math.max(1, Math.ceil(estimatedTokens)), resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          if (this.settle(waiter)) reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      void this.pump();
    });
  }

  /**
   * Grants the queued requests in order. While slots are free it asks for up to 16 waiters at
   * once (one round trip); once Redis says the limit is reached, only the first waiter polls,
   * with backoff, until a release in this process (or the poll) finds room.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let batch = MAX_BATCH;
      for (let attempt = 0; this.waiters.length > 0;) {
        this.releasedSinceAttempt = 0;
        const asked = this.waiters.slice(0, Math.min(batch, this.waiters.length));
        const answers = await Promise.all(asked.map((waiter) => this.tryAcquire(waiter)));
        let wait = 0;
        for (const [index, answer] of answers.entries()) {
          const waiter = asked[index];
          if (answer instanceof Error) {
            if (this.settle(waiter)) waiter.reject(answer);
          } else if (typeof answer === 'number') {
            wait = wait === 0 ? answer : Math.max(wait, answer);
          } else if (this.settle(waiter)) {
            waiter.resolve(answer);
          } else {
            answer.release(); // aborted while Redis granted it: give the slot straight back
          }
        }
        if (wait === 0) {
          attempt = 0;
          batch = MAX_BATCH;
          continue;
        }
        // A full semaphore frees up when some request ends: poll soon, backing off.
        const base = wait < 0 ? Math.min(2 * 2 ** Math.min(attempt, 5), 50) : Math.min(wait, this.limits.maxPollMs);
        attempt += 1;
        if (this.releasedSinceAttempt === 0) await this.sleepUnlessWoken(base * (0.75 + Math.random() * 0.5));
        batch = Math.max(1, Math.min(MAX_BATCH, this.releasedSinceAttempt));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** One acquire script for `waiter`: its lease, or the wait Redis asked for (-1: no slot), or the error. */
  private async tryAcquire(waiter: Waiter): Promise<RateLimitLease | number | Error> {
    const { maxInFlight, requestsPerMinute, tokensPerMinute, leaseMs } = this.limits;
    const leaseId = randomUUID();
    try {
      const wait = await this.redis.pfLimitAcquire(
        this.keys.inFlight,
        this.keys.requests,
        this.keys.tokens,
        maxInFlight ?? 0,
        requestsPerMinute ?? 0,
        tokensPerMinute ?? 0,
        waiter.reserved,
        leaseMs,
        leaseId,
      );
      return wait === 0 ? this.lease(leaseId, waiter.reserved) : wait;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Takes `waiter` off the queue; false when it already left (aborted or answered). */
  private settle(waiter: Waiter): boolean {
    const position = this.waiters.indexOf(waiter);
    if (position === -1) return false;
    this.waiters.splice(position, 1);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    return true;
  }

  private sleepUnlessWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private lease(leaseId: string, reserved: number): RateLimitLease {
    const { maxInFlight, tokensPerMinute, leaseMs } = this.limits;
    const renewal = maxInFlight
      ? setInterval(
          () => {
            this.redis.pfLimitRenew(this.keys.inFlight, leaseId, leaseMs).catch(() => {});
          },
          Math.max(1, Math.floor(leaseMs / 3)),
        )
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
        this.redis
          .pfLimitRelease(this.keys.inFlight, this.keys.tokens, leaseId, tokensPerMinute ?? 0, delta)
          .catch(() => {});
        // The woken acquire goes out on the same connection after this release, so it sees the slot.
        this.releasedSinceAttempt += 1;
        this.wakeUp?.();
      },
    };
  }
}

/** Waiters asked for in one round trip while slots are free. */
const MAX_BATCH = 16;

/** A request waiting for a grant in this process. */
interface Waiter {
  reserved: number;
  resolve(lease: RateLimitLease): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}
