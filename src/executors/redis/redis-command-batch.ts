import type { ChainableCommander, Redis } from 'ioredis';

// Applies one batch of writes: `SET key value EX ttl NX` for every KEY.
// ARGV: (ttlSeconds, value) per key.
const WRITE_BATCH = `
for key = 1, #KEYS do
  redis.call('SET', KEYS[key], ARGV[2 * key], 'EX', ARGV[2 * key - 1], 'NX')
end
return #KEYS
`;

declare module 'ioredis' {
  interface ChainableCommander {
    pfWriteBatch(keyCount: number, ...keysAndArgs: Array<string | number | Buffer>): ChainableCommander;
  }
}

/** Longest time a write waits for a pipeline to ride in, in ms. */
const WRITE_BEHIND_MS = 50;

/** Results of the commands one `send` added, in order: `[error, reply]` each. */
export type PipelineResults = Array<[Error | null, unknown]>;

interface Queued {
  /** Adds the commands at send time; returns false when it has none after all. */
  build(pipeline: ChainableCommander): boolean | void;
  resolve(results: PipelineResults): void;
  reject(error: unknown): void;
}

interface Read {
  resolve(value: Buffer | null): void;
  reject(error: unknown): void;
}

const batches = new WeakMap<Redis, RedisCommandBatch>();

/**
 * Everything LLM calls send on one Redis connection (cached replies, the shared
 * rate limiter), in as few round trips as possible. Each round trip wakes the process for its
 * reply, and on the workers those wake-ups, not the commands, were most of the CPU that Redis cost
 * per call; so commands that can wait ride in the next pipeline that has to go out anyway:
 * - reads (`getBuffer`) of one turn of the event loop go out at its end as one `MGET`;
 * - writes (`setIfAbsent`) are written behind: not awaited, applied by one script
 *   in the next pipeline, at the latest after 50 ms;
 * - `send` adds commands due within a given time (0: at the end of this turn);
 * - `flushWith` sends everything now, plus the given commands, and reports failed writes.
 * In a pipeline, the writes come first, then the `send` commands in order, then the `MGET`.
 * One batch per connection (`RedisCommandBatch.for`), so every user of the connection shares it.
 */
export class RedisCommandBatch {
  private reads = new Map<string, Read[]>();
  private sets = new Map<string, { value: Buffer; ttlSeconds: number }>();
  private queued: Queued[] = [];
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;
  /** The latest pipeline that carried writes, and a failure of writes not yet reported. */
  private lastWrite: Promise<unknown> = Promise.resolve();
  private unreportedError: unknown;

  /** The batch of `redis` (created on first use). */
  static for(redis: Redis): RedisCommandBatch {
    let batch = batches.get(redis);
    if (!batch) {
      batch = new RedisCommandBatch(redis);
      batches.set(redis, batch);
    }
    return batch;
  }

  private constructor(private readonly redis: Redis) {
    if (!('pfWriteBatch' in redis)) redis.defineCommand('pfWriteBatch', { lua: WRITE_BATCH });
  }

  /** `GET key` (as bytes), in one `MGET` with the other reads of this turn. */
  getBuffer(key: string): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      const waiting = this.reads.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.reads.set(key, [{ resolve, reject }]);
      this.schedule(0);
    });
  }

  /** Queues `SET key value EX ttlSeconds NX`: the first value written wins (also within one batch). */
  setIfAbsent(key: string, value: Buffer, ttlSeconds: number): void {
    if (!this.sets.has(key)) this.sets.set(key, { value, ttlSeconds });
    this.schedule(WRITE_BEHIND_MS);
  }

  /**
   * Adds the commands `build` puts on the pipeline to a pipeline that goes out within
   * `maxDelayMs` (0: at the end of this turn of the event loop), and resolves with their results.
   * `build` runs when the pipeline is sent, so it sees the state of that moment; it returns false
   * when it has nothing to send after all (the promise then resolves with no results).
   */
  send(build: (pipeline: ChainableCommander) => boolean | void, maxDelayMs = 0): Promise<PipelineResults> {
    return new Promise((resolve, reject) => {
      this.queued.push({ build, resolve, reject });
      this.schedule(maxDelayMs);
    });
  }

  /** Sends whatever `send` queued at the end of this turn instead of at its deadline. */
  expedite(): void {
    if (this.queued.length) this.schedule(0);
  }

  /**
   * Sends everything queued now, then `commands` in the same pipeline (one round trip), and
   * resolves with the results of `commands`. Rejects when writes sent since the last `flushWith`
   * failed (or these did): what was written behind is only known to be stored once this resolves.
   */
  async flushWith(commands?: (pipeline: ChainableCommander) => void): Promise<PipelineResults> {
    let results: PipelineResults = [];
    const own = this.flush(commands ? (pipeline) => commands(pipeline) : undefined);
    if (own) results = await own;
    else await this.lastWrite;
    const failed = this.unreportedError;
    this.unreportedError = undefined;
    if (failed) throw failed;
    return results;
  }

  private schedule(maxDelayMs: number): void {
    if (maxDelayMs <= 0) {
      // setImmediate, not a microtask: work started in the same turn shares the pipeline.
      this.immediate ??= setImmediate(() => void this.flush());
      return;
    }
    if (this.immediate) return;
    const dueAt = Date.now() + maxDelayMs;
    if (dueAt >= this.timerDueAt) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => void this.flush(), maxDelayMs);
  }

  /**
   * Sends everything queued in one pipeline; with `extra`, also its commands (after the queued
   * ones, before the reads) and returns a promise of their results.
   */
  private flush(extra?: (pipeline: ChainableCommander) => void): Promise<PipelineResults> | undefined {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Infinity;
    const pipeline = this.redis.pipeline();
    const length = () => (pipeline as unknown as { length: number }).length;
    const wrote = this.addWrites(pipeline);
    const queued = this.queued;
    this.queued = [];
    const slices: Array<[number, number]> = queued.map((item) => {
      const start = length();
      try {
        item.build(pipeline);
      } catch (error) {
        item.reject(error);
      }
      return [start, length()];
    });
    const extraStart = length();
    extra?.(pipeline);
    const extraEnd = length();
    const reads = this.reads;
    this.reads = new Map();
    const keys = [...reads.keys()];
    if (keys.length) pipeline.mgetBuffer(...keys);
    if (length() === 0) {
      for (const item of queued) item.resolve([]);
      return extra ? Promise.resolve([]) : undefined;
    }
    const sent = pipeline.exec().then(
      (replies) => {
        const results = (replies ?? []) as PipelineResults;
        if (wrote && results[0]?.[0]) this.unreportedError = results[0][0];
        queued.forEach((item, index) => item.resolve(results.slice(...slices[index])));
        if (keys.length) {
          const [readError, values] = results[results.length - 1] ?? [new Error('no reply to MGET'), null];
          keys.forEach((key, index) =>
            reads
              .get(key)!
              .forEach((read) =>
                readError ? read.reject(readError) : read.resolve((values as Array<Buffer | null>)[index]),
              ),
          );
        }
        return results.slice(extraStart, extraEnd);
      },
      (error) => {
        if (wrote) this.unreportedError = error;
        for (const item of queued) item.reject(error);
        for (const key of keys) for (const read of reads.get(key)!) read.reject(error);
        throw error;
      },
    );
    if (wrote) this.lastWrite = sent.catch(() => {});
    if (!extra) sent.catch(() => {});
    return sent;
  }

  /** Adds the pending writes to `pipeline` (first); false when there were none. */
  private addWrites(pipeline: ChainableCommander): boolean {
    if (this.sets.size === 0) return false;
    const { sets } = this;
    this.sets = new Map();
    const args: Array<string | number | Buffer> = [];
    for (const { value, ttlSeconds } of sets.values()) args.push(ttlSeconds, value);
    pipeline.pfWriteBatch(sets.size, ...sets.keys(), ...args);
    return true;
  }
}
