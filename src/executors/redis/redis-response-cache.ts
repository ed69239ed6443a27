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

/**
 * Drops the cached replies of committed pairs. KEYS: the pairs' index sets. ARGV[1]: the entry key
 * prefix (`<prefix>:cache:`). Each index lists the cache keys its pair's calls stored; the entries
 * and the index go (UNLINK frees in the background). Returns the entries dropped.
 */
const DROP_PAIR_REPLIES = `
local dropped = 0
for _, index in ipairs(KEYS) do
  local members = redis.call('SMEMBERS', index)
  for start = 1, #members, 500 do
    local batch = {}
    for position = start, math.min(start + 499, #members) do
      batch[#batch + 1] = ARGV[1] .. members[position]
    end
    dropped = dropped + redis.call('UNLINK', unpack(batch))
  end
  redis.call('UNLINK', index)
end
return dropped
`;

declare module 'ioredis' {
  interface RedisCommander {
    pfDropPairReplies(keyCount: number, ...keysAndArgs: string[]): Promise<number>;
  }
}

const withDropCommand = new WeakSet<Redis>();

/** The set listing the cache keys stored by one pair's calls (`scope`, e.g. its BullMQ job id). */
export function pairRepliesIndexKey(prefix: string, scope: string): string {
  return `${prefix}:cache-index:${scope}`;
}

/**
 * Drops the cached replies of pairs the coordinator has committed (their rows and outcome lines
 * are on disk, so a resume skips them and never asks for these replies again), so Redis holds
 * only what a resume can still use: the replies of pairs not committed yet. `scopes` are the
 * scopes their calls were cached under (`RedisResponseCache.forPair`). One round trip; returns
 * the entries dropped. A pair whose calls were not scoped has no index: nothing happens.
 */
export async function dropCommittedPairReplies(
  redis: Redis,
  prefix: string,
  scopes: readonly string[],
): Promise<number> {
  if (scopes.length === 0) return 0;
  if (!withDropCommand.has(redis)) {
    redis.defineCommand('pfDropPairReplies', { lua: DROP_PAIR_REPLIES });
    withDropCommand.add(redis);
  }
  const indexes = scopes.map((scope) => pairRepliesIndexKey(prefix, scope));
  return redis.pfDropPairReplies(indexes.length, ...indexes, `${prefix}:cache:`);
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
  /** Per pair scope: keys stored and not yet added to its index (sent with the next pipeline). */
  private unindexed = new Map<string, string[]>();

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

  /**
   * The same cache, for the calls of one pair: every entry stored through it is also listed in
   * the pair's index (written behind with the entries, in the same pipeline), so that
   * `dropCommittedPairReplies` can drop them once the coordinator commits the pair. `scope` must
   * be the same each time the pair runs (a worker uses its BullMQ job id).
   */
  forPair(scope: string): ResponseCache {
    return {
      kind: this.kind,
      get: (key) => this.get(key),
      set: async (key, value) => {
        await this.set(key, value);
        this.addToIndex(scope, key);
      },
      close: async () => {},
    };
  }

  /** Sends what was written behind; the connection stays open (it is the caller's). */
  async close(): Promise<void> {
    await this.batch.flushWith();
  }

  private addToIndex(scope: string, key: string): void {
    const keys = this.unindexed.get(scope);
    if (keys) {
      keys.push(key);
      return;
    }
    this.unindexed.set(scope, [key]);
    if (this.unindexed.size > 1) return; // a send is already queued
    // Rides in the same pipeline as the entries (written behind within 50 ms, or by `flushWith`).
    void this.batch
      .send((pipeline) => {
        const pending = this.unindexed;
        this.unindexed = new Map();
        for (const [pendingScope, pendingKeys] of pending) {
          const index = pairRepliesIndexKey(this.prefix, pendingScope);
          pipeline.sadd(index, ...pendingKeys).expire(index, this.ttlSeconds);
        }
        return pending.size > 0;
      }, 50)
      .catch(() => {});
  }

  private entryKey(key: string): string {
    return `${this.prefix}:cache:${key}`;
  }
}
