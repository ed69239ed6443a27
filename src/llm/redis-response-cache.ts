import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { ResponseCache } from './response-cache.ts';

export interface RedisResponseCacheOptions {
  /** Key prefix of the deployment; entries are `<prefix>:cache:<key>`. @defaultValue 'pf' */
  prefix?: string;
  /**
   * Seconds an entry lives after it is written. Redis must run with `maxmemory-policy noeviction`
   * (BullMQ needs it), so the cache has to expire on its own. @defaultValue 604800 (7 days)
   */
  ttlSeconds?: number;
  /** Values of at least this many bytes are stored deflated. @defaultValue 256 */
  compressAboveBytes?: number;
}

const RAW = 0x00;
const DEFLATED = 0x01;

/**
 * The LLM response cache shared by the coordinator and every worker, in Redis. It stores what
 * `cacheResponses` gives it under the same keys as the file store, so N workers never pay twice
 * for one request and a resumed run replays finished calls for free. Values are one marker byte
 * (raw or deflate-raw) followed by the bytes. The Redis client belongs to the caller.
 */
export class RedisResponseCache implements ResponseCache {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly compressAboveBytes: number;

  constructor(
    private readonly redis: Redis,
    options: RedisResponseCacheOptions = {},
  ) {
    this.prefix = options.prefix ?? 'pf';
    this.ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
    this.compressAboveBytes = options.compressAboveBytes ?? 256;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new TypeError(`Expected \`ttlSeconds\` to be a positive integer, got ${this.ttlSeconds}.`);
    }
  }

  async get(key: string): Promise<string | undefined> {
    const stored = await this.redis.getBuffer(this.entryKey(key));
    if (!stored || stored.length === 0) return undefined;
    const body = stored.subarray(1);
    return (stored[0] === DEFLATED ? inflateRawSync(body) : body).toString('utf8');
  }

  async set(key: string, value: string): Promise<void> {
    const bytes = Buffer.from(value, 'utf8');
    const stored =
      bytes.length >= this.compressAboveBytes
        ? Buffer.concat([Buffer.of(DEFLATED), deflateRawSync(bytes)])
        : Buffer.concat([Buffer.of(RAW), bytes]);
    // NX: the first stored sample wins, as in the file store.
    await this.redis.set(this.entryKey(key), stored, 'EX', this.ttlSeconds, 'NX');
  }

  async close(): Promise<void> {}

  private entryKey(key: string): string {
    return `${this.prefix}:cache:${key}`;
  }
}
