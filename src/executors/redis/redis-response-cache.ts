import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { ResponseCache } from '../../llm/response-cache.ts';
import { RedisCommandBatch } from './redis-command-batch.ts';

export interface RedisResponseCacheOptions {
  /** Key prefix of the deployment; entries are `<prefix>:cache:<key>`. @defaultValue 'pf' */
  prefix?: string;
  /**
   * Seconds an entry lives after it is written. Redis must run with `maxmemory-policy noeviction`
   * (BullMQ needs it), so the cache has to expire on its own. @defaultValue 604800 (7 days)
   */
  ttlSeconds?: number;
  /**
   * Values of at least this many bytes are stored deflated. Deflating a small value costs far more
   * CPU than the bytes it saves (zlib's per-call set-up dominates): critic replies of ~300 bytes
   * shrank by ~30 % and cost the workers ~0.15 ms of CPU per LLM call. @defaultValue 1024
   */
  compressAboveBytes?: number;
}

const RAW = 0x00;
const DEFLATED = 0x01;
// Replies are a few KB: a 4 KB window and a fast level compress them within ~2 % of the defaults
// at about 2/3 of the CPU, and allocate ~50 KB of zlib state per value instead of ~270 KB.
const DEFLATE_OPTIONS = { level: 3, windowBits: 12, memLevel: 6 } as const;

/**
 * The LLM response cache shared by the coordinator and every worker, in Redis. It stores what
 * `cacheResponses` gives it under the same keys as the file store, so N workers never pay twice
 * for one request and a resumed run replays finished calls for free. Values are one marker byte
 * (raw or deflate-raw) followed by the bytes. Reads of one turn of the event loop go to Redis as
 * one `MGET`; writes are written behind (`RedisCommandBatch`): `set` returns at once and the entry
 * is stored within 50 ms, or by the connection's next read or `RedisCommandBatch.flushWith`, so
 * await that before anything that relies on the entry being stored (a worker does, before it
 * reports a job's outcome). The Redis client belongs to the caller.
 */
export class RedisResponseCache implements ResponseCache {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly compressAboveBytes: number;
  private readonly batch: RedisCommandBatch;

  constructor(redis: Redis, options: RedisResponseCacheOptions = {}) {
    this.batch = RedisCommandBatch.for(redis);
    this.prefix = options.prefix ?? 'pf';
    this.ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
    this.compressAboveBytes = options.compressAboveBytes ?? 1024;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new TypeError(`Expected \`ttlSeconds\` to be a positive integer, got ${this.ttlSeconds}.`);
    }
  }

  async get(key: string): Promise<string | undefined> {
    const stored = await this.batch.getBuffer(this.entryKey(key));
    if (!stored || stored.length === 0) return undefined;
    const body = stored.subarray(1);
    return (stored[0] === DEFLATED ? inflateRawSync(body) : body).toString('utf8');
  }

  async set(key: string, value: string): Promise<void> {
    const bytes = Buffer.from(value, 'utf8');
    const stored =
      bytes.length >= this.compressAboveBytes
        ? Buffer.concat([Buffer.of(DEFLATED), deflateRawSync(bytes, DEFLATE_OPTIONS)])
        : Buffer.concat([Buffer.of(RAW), bytes]);
    // NX: the first stored sample wins, as in the file store. Written behind (see the class).
    this.batch.setIfAbsent(this.entryKey(key), stored, this.ttlSeconds);
  }

  /** Sends what was written behind; the connection stays open (it is the caller's). */
  async close(): Promise<void> {
    await this.batch.flushWith();
  }

  private entryKey(key: string): string {
    return `${this.prefix}:cache:${key}`;
  }
}
