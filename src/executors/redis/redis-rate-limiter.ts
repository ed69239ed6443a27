import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimits } from '../../llm/rate-limits.ts';
import type { RateLimiter, RateLimitLease } from '../../llm/rate-limiter.ts';
import { RedisCommandBatch } from './redis-command-batch.ts';
import { LIMIT_RENEW_SCRIPT, LIMIT_ROUND_SCRIPT } from './redis-rate-limiter-scripts.ts';

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

declare module 'ioredis' {
  interface ChainableCommander {
    pfLimitRound(
      inFlight: string,
      requests: string,
      tokens: string,
      ...args: Array<string | number>
    ): ChainableCommander;
    pfLimitRenew(inFlight: string, ...args: Array<string | number>): ChainableCommander;
  }
}

/**
 * Rate limits of one LLM endpoint shared by every worker through Redis: a distributed semaphore
 * for requests in flight (a sorted set of leases that expire, so a killed worker's slots come
 * back) and token buckets for requests and tokens per minute, all taken atomically in one Lua
 * script. The requests waiting in one process queue here (FIFO). One round at a time frees the
 * leases this process is done with and asks for the first waiting requests, in one script that
 * rides in the connection's next pipeline (`RedisCommandBatch`); while the limit is reached, the
 * next round waits with backoff, or goes out sooner with any other command on the connection.
 *
 * When only `maxInFlight` is set, a request that ends hands its slot straight to the next request
 * waiting in this process, without asking Redis: the slot stays leased and counted, so the shared
 * limit holds, and it is the slot this process would have taken back first anyway (its acquire
 * followed its release on the same connection). The leases a process holds are renewed together,
 * one script every third of the lease. A process grants in the order requests asked: one waiting
 * for tokens holds back smaller ones behind it.
 * (In `bench/`, workers made ~9.6 limiter round trips per LLM call when every acquire attempt and
 * every release was its own; now ~0.36 scripts per call, nearly all in pipelines sent anyway.)
 */
export class RedisRateLimiter implements RateLimiter {
  readonly limits: Required<Pick<RedisRateLimiterOptions, 'leaseMs' | 'maxPollMs'>> & RateLimits;
  private readonly keys: { inFlight: string; requests: string; tokens: string };
  private readonly waiters: Waiter[] = [];
  /** Leases done with, to free in the next round: lease id, tokens to give back. */
  private readonly toRelease: Array<string | number> = [];
  /** Leases this process holds in Redis' in-flight set: lease id -> lost (Redis no longer has it). */
  private readonly held = new Map<string, boolean>();
  private readonly handOff: boolean;
  private readonly leasePrefix = `${randomBytes(6).toString('base64url')}:`;
  private nextLease = 0;
  private renewal: NodeJS.Timeout | undefined;
  private pumping = false;
  private readonly batch: RedisCommandBatch;

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
    // Only a pure in-flight limit can hand slots over: every request must pass the buckets.
    this.handOff = Boolean(this.limits.maxInFlight && !this.limits.requestsPerMinute && !this.limits.tokensPerMinute);
    const endpointId = createHash('sha256').update(options.endpoint).digest('hex').slice(0, 16);
    const base = `${options.prefix ?? 'pf'}:limits:${endpointId}`;
    this.keys = { inFlight: `${base}:in-flight`, requests: `${base}:rpm`, tokens: `${base}:tpm` };
    if (!('pfLimitRound' in redis)) {
      redis.defineCommand('pfLimitRound', { numberOfKeys: 3, lua: LIMIT_ROUND_SCRIPT });
      redis.defineCommand('pfLimitRenew', { numberOfKeys: 1, lua: LIMIT_RENEW_SCRIPT });
    }
    this.batch = RedisCommandBatch.for(redis);
  }

  /** True when no limit is set (the limiter then grants everything without asking Redis). */
  get unlimited(): boolean {
    return !this.limits.maxInFlight && !this.limits.requestsPerMinute && !this.limits.tokensPerMinute;
  }

  /** True when requests reserve tokens (`estimatedTokens` of `acquire` matters). */
  get countsTokens(): boolean {
    return Boolean(this.limits.tokensPerMinute);
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
      if (!this.pumping) void this.pump();
    });
  }

  /**
   * Runs rounds while there are leases to free or requests waiting: each round frees the former
   * and asks for up to 16 of the latter in one script, in the connection's next pipeline. While
   * the limit is reached, it asks again with backoff, or sooner whenever that pipeline goes out
   * for something else (a read, an outcome), or when this process frees a lease.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let delayMs = 0;
      for (let attempt = 0; this.toRelease.length > 0 || this.waiters.length > 0;) {
        const round = await this.round(delayMs);
        if (round.error) {
          // Redis refused the script: the asked requests fail (their jobs retry); freed leases expire.
          const error = round.error instanceof Error ? round.error : new Error(String(round.error));
          for (const waiter of this.waiters.slice(0, round.asked.length)) {
            if (this.settle(waiter)) waiter.reject(error);
          }
          delayMs = 0;
          continue;
        }
        const { granted, wait, leaseIds, asked } = round;
        // Grants go to the first requests still waiting (some may have left meanwhile).
        for (let index = 0; index < granted; index++) {
          const waiter = this.waiters[0];
          if (waiter && this.settle(waiter)) {
            waiter.resolve(this.lease(leaseIds[index], asked[index]));
          } else {
            this.toRelease.push(leaseIds[index], 0);
          }
        }
        if (granted > 0) attempt = 0;
        if (wait === 0 || this.toRelease.length > 0 || this.waiters.length === 0) {
          delayMs = 0;
          continue;
        }
        // A full semaphore frees up when some request ends: ask again soon, backing off. A process
        // that holds slots gets them back from its own requests (hand-over), so it asks less often.
        const [firstMs, capMs] = this.handOff && this.held.size > 0 ? HOLDER_POLL_MS : POLL_MS;
        const base =
          wait < 0 ? Math.min(firstMs * 2 ** Math.min(attempt, 7), capMs) : Math.min(wait, this.limits.maxPollMs);
        attempt += 1;
        delayMs = base * (0.75 + Math.random() * 0.5);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** One round, in a pipeline that leaves within `delayMs`, built from the state at that moment. */
  private round(delayMs: number): Promise<Round> {
    const round: Round = { granted: 0, wait: 0, leaseIds: [], asked: [] };
    return this.batch
      .send((pipeline) => {
        const { maxInFlight, requestsPerMinute, tokensPerMinute, leaseMs } = this.limits;
        const releases = this.toRelease.splice(0);
        round.asked = this.waiters.slice(0, MAX_BATCH).map((waiter) => waiter.reserved);
        if (releases.length === 0 && round.asked.length === 0) return false;
        round.leaseIds = round.asked.map(() => this.leasePrefix + (this.nextLease++).toString(36));
        const args: Array<string | number> = [
          maxInFlight ?? 0,
          requestsPerMinute ?? 0,
          tokensPerMinute ?? 0,
          leaseMs,
          releases.length / 2,
          ...releases,
        ];
        for (const [index, reserved] of round.asked.entries()) args.push(round.leaseIds[index], reserved);
        pipeline.pfLimitRound(this.keys.inFlight, this.keys.requests, this.keys.tokens, ...args);
      }, delayMs)
      .then(
        (results) => {
          if (results.length === 0) return round;
          const [error, reply] = results[0];
          if (error) round.error = error;
          else [round.granted, round.wait] = reply as [number, number];
          return round;
        },
        (error: unknown) => Object.assign(round, { error }),
      );
  }

  /** Takes `waiter` off the queue; false when it already left (aborted or answered). */
  private settle(waiter: Waiter): boolean {
    const position = this.waiters.indexOf(waiter);
    if (position === -1) return false;
    this.waiters.splice(position, 1);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    return true;
  }

  private lease(leaseId: string, reserved: number): RateLimitLease {
    if (this.limits.maxInFlight && !this.held.has(leaseId)) {
      this.held.set(leaseId, false);
      this.renewal ??= setInterval(() => this.renew(), Math.max(1, Math.floor(this.limits.leaseMs / 3)));
      this.renewal.unref();
    }
    let released = false;
    return {
      release: (actualTokens?: number) => {
        if (released) return;
        released = true;
        if (this.handOff && this.held.get(leaseId) === false) {
          const next = this.waiters[0];
          if (next && this.settle(next)) {
            next.resolve(this.lease(leaseId, reserved));
            return;
          }
        }
        this.held.delete(leaseId);
        if (this.held.size === 0) this.stopRenewal();
        const delta = actualTokens !== undefined && actualTokens > 0 ? reserved - Math.ceil(actualTokens) : 0;
        if (!this.limits.maxInFlight && (!this.limits.tokensPerMinute || delta === 0)) return;
        // Sent with the next round, which leaves at the end of this turn; errors there mean Redis
        // is gone, and the lease then expires.
        this.toRelease.push(leaseId, delta);
        if (this.pumping) this.batch.expedite();
        else void this.pump();
      },
    };
  }

  /** Extends every lease this process holds; a lease Redis lost is not handed on when it ends. */
  private renew(): void {
    this.batch
      .send((pipeline) => {
        const ids = [...this.held].filter(([, lost]) => !lost).map(([id]) => id);
        if (ids.length === 0) return false;
        pipeline.pfLimitRenew(this.keys.inFlight, this.limits.leaseMs, ...ids);
      }, this.limits.leaseMs / 6)
      .then(
        ([result]) => {
          for (const id of (result?.[1] as string[] | undefined) ?? []) if (this.held.has(id)) this.held.set(id, true);
        },
        () => {},
      );
  }

  private stopRenewal(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }
}

/** Waiters asked for in one round trip while slots are free. */
const MAX_BATCH = 16;
/** First and longest wait between polls of a full semaphore, in ms: while this process holds no slot, and while it holds some. */
const POLL_MS = [2, 50] as const;
const HOLDER_POLL_MS = [10, 100] as const;

/** What one round asked for and got: the first `granted` of `leaseIds`; `wait` as the script returns it. */
interface Round {
  granted: number;
  wait: number;
  leaseIds: string[];
  asked: number[];
  error?: unknown;
}

/** A request waiting for a grant in this process. */
interface Waiter {
  reserved: number;
  resolve(lease: RateLimitLease): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}
