/**
 * The scale-out adapters against a real redis-server on loopback: the Redis response cache, the
 * shared rate limiter, and the BullMQ executor + worker pair run in this process against the HTTP
 * fixture (lost jobs, duplicates, failures, abort, release on shutdown).
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BullMqExecutor } from '../../src/executors/bullmq-executor.ts';
import { openBullMqCoordinator } from '../../src/executors/bullmq-coordinator.ts';
import { startBullMqWorker, type PairWorker } from '../../src/executors/bullmq-worker.ts';
import { bullMqJobId } from '../../src/executors/bullmq-job-id.ts';
import { PAIR_JOBS_QUEUE, runKeys } from '../../src/executors/bullmq-keys.ts';
import { encodeOutcome } from '../../src/executors/bullmq-outcome-codec.ts';
import { createRedisClient, parseRedisUrl, redactRedisUrl } from '../../src/executors/redis/redis-connection.ts';
import { RedisResponseCache } from '../../src/executors/redis/redis-response-cache.ts';
import { RedisRateLimiter } from '../../src/executors/redis/redis-rate-limiter.ts';
import { RedisCommandBatch } from '../../src/executors/redis/redis-command-batch.ts';
import { cacheResponses } from '../../src/llm/cache-responses.ts';
import { responseCacheKey } from '../../src/llm/response-cache-key.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { ConfigError, EndpointUnreachableError } from '../../src/errors.ts';
import type { CompletionRequest, LlmBackend } from '../../src/llm/llm-backend.ts';
import { RunConfigSchema, type RunConfig } from '../../src/schemas/run-config.ts';
import type { PairJob } from '../../src/schemas/pair-job.ts';
import type { PairOutcome } from '../../src/schemas/pair-outcome.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import { loadPromptTemplate } from '../../src/generation/load-prompt-template.ts';
import { loadSeedConversations } from '../../src/personas/load-seed-conversations.ts';
import { defaultSeedPaths } from '../../src/personas/load-seed-attributes.ts';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.ts';
import { serviceMissing } from '../fixtures/require-service.ts';

const redisMissing = serviceMissing(
  'redis-server',
  'the BullMQ / Redis integration tests (tests/integration/bullmq-scale-out.test.ts)',
);

let redis: RedisServer;
let fixture: FixtureServer;
const clients: Redis[] = [];
const client = () => {
  const created = createRedisClient(redis.url);
  clients.push(created);
  return created;
};

beforeAll(async () => {
  if (redisMissing) return;
  redis = await startRedisServer();
  fixture = await startFixtureServer();
});

afterAll(async () => {
  for (const created of clients) created.disconnect();
  await fixture?.close();
  await redis?.stop();
});

describe('Redis URLs', () => {
  it('parses rediss:// with a password into TLS options and never shows the password', () => {
    const options = parseRedisUrl('rediss://worker:p%40ss@cache.example:6380/2');
    expect(options).toMatchObject({
      host: 'cache.example',
      port: 6380,
      username: 'worker',
      password: 'p@ss',
      db: 2,
      tls: { servername: 'cache.example' },
    });
    expect(redactRedisUrl('rediss://worker:p%40ss@cache.example:6380/2')).toBe(
      'rediss://worker:***@cache.example:6380/2',
    );
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('rejects a bad URL with the password redacted', () => {
    expect(() => parseRedisUrl('http://:hunter2@host:1')).toThrow(ConfigError);
    expect(() => parseRedisUrl('http://:hunter2@host:1')).toThrow(/http:\/\/:\*\*\*@host:1/);
    expect(() => parseRedisUrl('redis://:hunter2@host:1/x')).not.toThrow(/hunter2/);
  });
});

describe.skipIf(redisMissing)('password-protected Redis', () => {
  it('connects with the password and never prints it; a wrong one fails fast, redacted', async () => {
    const secured = await startRedisServer({ password: 'pw-s3cret' });
    try {
      const events: string[] = [];
      const coordinator = await openBullMqCoordinator({
        redisUrl: `redis://:pw-s3cret@127.0.0.1:${secured.port}`,
        onEvent: (event, fields) => events.push(`${event} ${JSON.stringify(fields)}`),
      });
      await coordinator.responseCache.set('k', 'v');
      expect(await coordinator.responseCache.get('k')).toBe('v');
      await coordinator.close();
      expect(events.join('\n')).toContain(`redis://:***@127.0.0.1:${secured.port}`);
      expect(events.join('\n')).not.toContain('pw-s3cret');

      const failure = await openBullMqCoordinator({
        redisUrl: `redis://:wrong-pw@127.0.0.1:${secured.port}`,
        connectTimeoutMs: 2000,
      }).catch((error) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect(failure.message).toContain('redis://:***@127.0.0.1');
      expect(failure.message).not.toContain('wrong-pw');
    } finally {
      await secured.stop();
    }
  });
});

describe.skipIf(redisMissing)('RedisResponseCache', () => {
  it('serves a repeated request from Redis under the file store keys, free of charge', async () => {
    const calls: CompletionRequest[] = [];
    const backend: LlmBackend = {
      kind: 'counting',
      modelFor: () => 'model-a',
      complete: async (request) => {
        calls.push(request);
        return {
          texts: ['x'.repeat(2000), 'short'],
          model: 'model-a',
          usage: { promptTokens: 10, completionTokens: 20, calls: 1 },
        };
      },
      dispose: async () => {},
    };
    const cached = cacheResponses(backend, new RedisResponseCache(client(), { prefix: 'cache-test' }));
    const request: CompletionRequest = {
      role: 'generator',
      messages: [{ role: 'user', content: 'hello' }],
      samples: 2,
      seed: 1,
    };
    const first = await cached.complete(request);
    const second = await cached.complete(request);
    expect(calls).toHaveLength(1);
    expect(second.texts).toEqual(first.texts);
    expect(second.usage.calls).toBe(0);
    // Same key as the file store; the long sample is stored deflated, with a TTL.
    const key = `cache-test:cache:${responseCacheKey('model-a', request, 0)}`;
    expect(await redis.command('EXISTS', key)).toContain(':1');
    expect(Number((await redis.command('STRLEN', key)).slice(1))).toBeLessThan(500);
    expect(Number((await redis.command('TTL', key)).slice(1))).toBeGreaterThan(0);
    // Short replies are stored as they are: deflating them cost more CPU than the bytes it saved.
    const short = `cache-test:cache:${responseCacheKey('model-a', request, 1)}`;
    expect(await redis.command('GET', short)).toContain('short');
  });

  it('writes behind: an entry is stored without waiting, at the latest when the cache is closed', async () => {
    const connection = client();
    const cache = new RedisResponseCache(connection, { prefix: 'behind' });
    await cache.set('k1', 'v1');
    await cache.close();
    expect(await redis.command('EXISTS', 'behind:cache:k1')).toBe(':1\r\n');
    // On its own, within about 50 ms.
    await cache.set('k2', 'v2');
    await expect.poll(() => redis.command('EXISTS', 'behind:cache:k2'), { timeout: 2000 }).toBe(':1\r\n');
    // A read on the same connection sees every write made before it.
    await cache.set('k3', 'v3');
    expect(await cache.get('k3')).toBe('v3');
  });
});

describe.skipIf(redisMissing)('RedisCommandBatch', () => {
  const commandCalls = async (name: string) =>
    Number(/calls=(\d+)/.exec((await redis.info('commandstats'))[`cmdstat_${name}`] ?? 'calls=0')![1]);

  it('sends the reads of one turn as one MGET, after the writes queued before them', async () => {
    const connection = client();
    await connection.ping();
    const batch = RedisCommandBatch.for(connection);
    expect(RedisCommandBatch.for(connection)).toBe(batch);
    batch.setIfAbsent('batch:a', Buffer.from('first'), 60);
    batch.setIfAbsent('batch:a', Buffer.from('second'), 60); // NX: the first value wins
    const [gets, mgets] = [await commandCalls('get'), await commandCalls('mget')];
    const values = await Promise.all(['batch:a', 'batch:b', 'batch:a'].map((key) => batch.getBuffer(key)));
    expect(values.map((value) => value?.toString() ?? null)).toEqual(['first', null, 'first']);
    expect(await commandCalls('mget')).toBe(mgets + 1);
    expect(await commandCalls('get')).toBe(gets);
  });

  it('reports a write that failed behind the scenes on the next flushWith, once', async () => {
    const connection = client();
    const admin = client();
    const batch = RedisCommandBatch.for(connection);
    const oomErrors = async () =>
      Number(/count=(\d+)/.exec((await redis.info('errorstats')).errorstat_OOM ?? 'count=0')![1]);
    const errorsBefore = await oomErrors();
    // Redis refuses every write (maxmemory reached, noeviction) while this entry goes out.
    await admin.config('SET', 'maxmemory', '1');
    try {
      batch.setIfAbsent('batch:refused', Buffer.from('x'), 60);
      // Sent on its own (write-behind) and failed unseen.
      await expect.poll(oomErrors, { timeout: 5000 }).toBeGreaterThan(errorsBefore);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    await expect(batch.flushWith()).rejects.toThrow(/OOM/);
    await expect(batch.flushWith()).resolves.toEqual([]);
    expect(await connection.exists('batch:refused')).toBe(0);
  });
});

describe.skipIf(redisMissing)('RedisRateLimiter', () => {
  it('keeps requests in flight at or under the limit across processes', async () => {
    // Two clients stand for two worker processes sharing one endpoint.
    const limiters = [client(), client()].map(
      (connection) => new RedisRateLimiter(connection, { endpoint: 'http://shared/v1', prefix: 'sem', maxInFlight: 3 }),
    );
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, index) => {
        const lease = await limiters[index % 2].acquire(10);
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 15));
        inFlight -= 1;
        lease.release();
      }),
    );
    expect(peak).toBe(3);
  });

  it("gives a killed holder's slot back after the lease expires", async () => {
    const doomed = client();
    const holder = new RedisRateLimiter(doomed, {
      endpoint: 'http://lease/v1',
      prefix: 'lease',
      maxInFlight: 1,
      leaseMs: 400,
    });
    await holder.acquire(1);
    const inFlightKey = `lease:limits:${createHash('sha256').update('http://lease/v1').digest('hex').slice(0, 16)}:in-flight`;
    // The lease's score is its expiry, in Redis time (ms).
    const expiry = Number((await client().zrange(inFlightKey, '0', '0', 'WITHSCORES'))[1]);
    doomed.disconnect(); // the process dies: no renewal, no release
    const survivor = new RedisRateLimiter(client(), {
      endpoint: 'http://lease/v1',
      prefix: 'lease',
      maxInFlight: 1,
      leaseMs: 400,
    });
    (await survivor.acquire(1)).release();
    // Granted, and only once the dead holder's lease had expired (not before: the limit held).
    const [seconds, micros] = await client().time();
    expect(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)).toBeGreaterThanOrEqual(expiry);
  });

  it('renews the lease of a request that runs longer than it', async () => {
    const options = { endpoint: 'http://renew/v1', prefix: 'renew', maxInFlight: 1, leaseMs: 150 };
    const holder = new RedisRateLimiter(client(), options);
    const lease = await holder.acquire(1);
    const inFlightKey = `renew:limits:${createHash('sha256').update('http://renew/v1').digest('hex').slice(0, 16)}:in-flight`;
    // The lease's score is its expiry (Redis time in ms).
    const expiry = async () => Number((await client().zrange(inFlightKey, '0', '0', 'WITHSCORES'))[1]);
    const firstExpiry = await expiry();
    const other = new RedisRateLimiter(client(), options);
    const waiting = other.acquire(1).then((second) => second.release());
    let finished = false;
    void waiting.then(() => (finished = true));
    // Renewed until it holds a whole lease past its first expiry: unrenewed, the slot would be free.
    await expect.poll(expiry, { timeout: 10_000 }).toBeGreaterThanOrEqual(firstExpiry + 2 * options.leaseMs);
    expect(finished).toBe(false);
    lease.release();
    await waiting;
  });

  it("hands a finished request's slot to the next one in the same process, without a round trip each", async () => {
    const connection = client();
    const limiter = new RedisRateLimiter(connection, { endpoint: 'http://hand/v1', prefix: 'hand', maxInFlight: 2 });
    const scripts = async () =>
      Number(/calls=(\d+)/.exec((await redis.info('commandstats')).cmdstat_evalsha ?? 'calls=0')![1]);
    await connection.ping();
    const before = await scripts();
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const lease = await limiter.acquire(10);
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        lease.release();
      }),
    );
    expect(peak).toBe(2);
    // A script per acquire and per release would be 80; here: one grant for the first two, a few
    // polls while they run (the slots go from request to request), the releases at the end.
    expect((await scripts()) - before).toBeLessThan(40);
  });

  it('does not hand on a slot Redis lost: the limit holds for the other processes', async () => {
    const options = { endpoint: 'http://lost/v1', prefix: 'lost', maxInFlight: 1, leaseMs: 300 };
    const holder = new RedisRateLimiter(client(), options);
    const first = await holder.acquire(1);
    // Redis loses the lease (e.g. restarted without persistence); another process takes the slot.
    const inFlightKey = `lost:limits:${createHash('sha256').update('http://lost/v1').digest('hex').slice(0, 16)}:in-flight`;
    expect(await redis.command('DEL', inFlightKey)).toBe(':1\r\n');
    const other = await new RedisRateLimiter(client(), options).acquire(1);
    // Wait until the holder's renewal has found its lease gone (it marks the lease lost).
    const held = (holder as unknown as { held: Map<string, boolean> }).held;
    await expect.poll(() => [...held.values()].includes(true), { timeout: 10_000 }).toBe(true);
    let secondStarted = false;
    const second = holder.acquire(1).then((lease) => {
      secondStarted = true;
      return lease;
    });
    const scripts = async () =>
      Number(/calls=(\d+)/.exec((await redis.info('commandstats')).cmdstat_evalsha ?? 'calls=0')![1]);
    const scriptsBefore = await scripts();
    first.release(); // must not pass the lost slot on to `second`: a hand-off would start it at once
    // `second` asks Redis instead, and is refused while `other` holds the slot.
    await expect.poll(scripts, { timeout: 10_000 }).toBeGreaterThanOrEqual(scriptsBefore + 2);
    expect(secondStarted).toBe(false);
    other.release();
    (await second).release();
    expect(secondStarted).toBe(true);
  });

  it('spaces requests by requests per minute once the burst is used', async () => {
    const limiter = new RedisRateLimiter(client(), {
      endpoint: 'http://rpm/v1',
      prefix: 'rpm',
      requestsPerMinute: 120,
    });
    const redisNowMs = async () => {
      const [seconds, micros] = await client().time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    // The bucket starts full (a minute's worth, 120); the 121st request needs one more to refill:
    // 0.5 s at 120/min after the first grant, by Redis' clock, however slow this process is.
    const before = await redisNowMs();
    for (let index = 0; index < 121; index++) (await limiter.acquire(1)).release();
    expect((await redisNowMs()) - before).toBeGreaterThanOrEqual(500);
  });

  it('charges tokens per minute with the real usage after the call', async () => {
    const limiter = new RedisRateLimiter(client(), { endpoint: 'http://tpm/v1', prefix: 'tpm', tokensPerMinute: 1000 });
    const lease = await limiter.acquire(1000); // reserves the whole minute
    lease.release(100); // the call used only 100: 900 come back
    // Without the refund, 800 tokens would take ~48 s to refill (the test would time out).
    (await limiter.acquire(800)).release(800);
    const bucketKey = `tpm:limits:${createHash('sha256').update('http://tpm/v1').digest('hex').slice(0, 16)}:tpm`;
    // 1000 reserved - 900 refunded, then 800 taken: at least 100 left (plus what refilled meanwhile).
    expect(Number(await client().hget(bucketKey, 'level'))).toBeGreaterThanOrEqual(100);
  });
});

describe.skipIf(redisMissing)('BullMqExecutor with in-process workers', () => {
  let config: RunConfig;
  let context: ConstructorParameters<typeof BullMqExecutor>[0]['context'];
  let jobsFor: (runId: string, count: number) => PairJob[];
  const workers: PairWorker[] = [];
  const executors: BullMqExecutor[] = [];

  beforeAll(async () => {
    config = RunConfigSchema.parse({
      candidates: 2,
      llm: { base_url: fixture.baseUrl, provider: 'openai', max_retries: 0 },
    });
    const critics = (await loadCritics()).filter((critic) => ['toxicity', 'coherency'].includes(critic.name));
    context = { config, critics, template: await loadPromptTemplate() };
    const seeds = await loadSeedConversations(defaultSeedPaths().conversations);
    jobsFor = (runId, count) =>
      Array.from({ length: count }, (_, index) => ({
        run_id: runId,
        iteration: 1,
        pool_version: 0,
        few_shot: seeds.slice(index % 3, (index % 3) + 2),
        pair: {
          id: `pair-${String(index).padStart(3, '0')}`,
          user1: { id: `a${index}`, attributes: ['I love dogs.', `I have ${index} cats.`] },
          user2: { id: `b${index}`, attributes: ['I am a chef.', 'I live by the sea.'] },
        },
      }));
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close(0);
    for (const executor of executors.splice(0)) await executor.close();
    fixture.setOptions({ latencyMs: 0 });
  });

  const startWorker = async (
    baseUrl = fixture.baseUrl,
    extra: Partial<Parameters<typeof startBullMqWorker>[0]> = {},
  ) => {
    const worker = await startBullMqWorker({
      redisUrl: redis.url,
      concurrency: 3,
      createBackend: async (runConfig) => {
        const backend = new OpenAiCompatibleBackend({
          baseUrl,
          generatorModel: runConfig.llm.model,
          criticModel: runConfig.llm.model,
          timeoutMs: 5_000,
        });
        return { backend, dispose: () => backend.dispose(), endpoint: baseUrl };
      },
      ...extra,
    });
    workers.push(worker);
    await worker.ready();
    return worker;
  };
  const executor = (events: string[] = [], extra: Partial<ConstructorParameters<typeof BullMqExecutor>[0]> = {}) => {
    const created = new BullMqExecutor({
      redisUrl: redis.url,
      context,
      reconcileIntervalMs: 200,
      onEvent: (event) => events.push(event),
      ...extra,
    });
    executors.push(created);
    return created;
  };
  const collect = () => {
    const outcomes: PairOutcome[] = [];
    return { outcomes, onOutcome: async (outcome: PairOutcome) => void outcomes.push(outcome) };
  };

  it('hands back every outcome once, dropping duplicate entries', async () => {
    const generatorRequests = () => fixture.stats.byKind.generator ?? 0;
    const before = generatorRequests();
    const jobs = jobsFor('dupes', 6);
    const { outcomes, onOutcome } = collect();
    const running = executor().run(jobs, onOutcome);
    const queue = new Queue(PAIR_JOBS_QUEUE, { connection: parseRedisUrl(redis.url) as never, prefix: 'pf' });
    await expect.poll(() => queue.getWaitingCount()).toBe(6);
    await queue.close();
    // A worker wrote pair 1's outcome and died before completing the job, which therefore runs
    // again and writes a second entry; an entry of some unknown job is ignored.
    const stale: PairOutcome = {
      pair_id: jobs[1].pair.id,
      iteration: 1,
      status: 'rejected',
      row: null,
      candidates: [],
      reasons: {},
      error: null,
      usage: {
        generator: { prompt_tokens: 0, completion_tokens: 0, calls: 0 },
        critic: { prompt_tokens: 0, completion_tokens: 0, calls: 0 },
      },
      duration_ms: 1,
    };
    await client().xadd(runKeys('pf', 'dupes').outcomes, '*', 'job', bullMqJobId(jobs[1]), 'o', encodeOutcome(stale));
    await client().xadd(runKeys('pf', 'dupes').outcomes, '*', 'job', 'not-a-pending-job', 'o', encodeOutcome(stale));
    await startWorker();
    await running;
    expect(outcomes.map((outcome) => outcome.pair_id).sort()).toEqual(jobs.map((job) => job.pair.id));
    // The first entry for a job wins; the re-run's is dropped.
    expect(outcomes.find((outcome) => outcome.pair_id === jobs[1].pair.id)?.status).toBe('rejected');
    expect(outcomes.filter((outcome) => outcome.status === 'accepted')).toHaveLength(5);
    expect(await redis.command('XLEN', runKeys('pf', 'dupes').outcomes)).toBe(':0\r\n');
    // All 6 jobs ran (pair 1's stale entry was delivered instead of its own outcome).
    expect(generatorRequests() - before).toBe(6);
  });

  it('pulls jobs from a lazy source only as the queue has room, holding at most maxQueuedJobs', async () => {
    const jobs = jobsFor('lazy', 12);
    let yielded = 0;
    let reported = 0;
    let mostOutstanding = 0;
    // Iterable more than once, as the coordinator's plan stream is: each pass yields the unreported jobs.
    const source: AsyncIterable<PairJob> = {
      async *[Symbol.asyncIterator]() {
        for (const job of jobs) {
          yielded++;
          mostOutstanding = Math.max(mostOutstanding, yielded - reported);
          yield job;
        }
      },
    };
    const outcomes: PairOutcome[] = [];
    await startWorker();
    await executor([], { maxQueuedJobs: 3 }).run(source, async (outcome) => {
      reported++;
      outcomes.push(outcome);
    });
    expect(outcomes.map((outcome) => outcome.pair_id).sort()).toEqual(jobs.map((job) => job.pair.id).sort());
    // 3 in the queue, plus the one job the executor peeks at for the run id.
    expect(mostOutstanding).toBeLessThanOrEqual(4);
  });

  it("stores the cache entries of a job's calls before its outcome reaches the coordinator", async () => {
    const prefix = 'durable';
    // Two jobs share one slot: a finished call hands it to the other job's call, so nothing else
    // carries the finished job's writes to Redis before its outcome.
    fixture.setOptions({ latencyMs: 40 });
    await startWorker(fixture.baseUrl, { prefix, concurrency: 2, limits: { maxInFlight: 1 } });
    const checked: Array<{ paid: number; cached: number }> = [];
    const admin = client();
    const jobs = jobsFor('durable', 4);
    await executor([], { prefix }).run(jobs, async (outcome) => {
      const paid = outcome.usage.generator.calls + outcome.usage.critic.calls;
      // The job's replies, listed in its index (dropped only after the coordinator commits the pair).
      const job = jobs.find((candidate) => candidate.pair.id === outcome.pair_id)!;
      const listed = await admin.smembers(`${prefix}:cache-index:${bullMqJobId(job)}`);
      const cached = listed.length ? await admin.exists(...listed.map((key) => `${prefix}:cache:${key}`)) : 0;
      checked.push({ paid, cached });
    });
    expect(checked).toHaveLength(4);
    // Every paid call of a reported job stored at least one reply.
    for (const { paid, cached } of checked) expect(cached).toBeGreaterThanOrEqual(paid);
  });

  it('adds back a job that vanished from Redis', async () => {
    const jobs = jobsFor('lost', 4);
    const events: string[] = [];
    const { outcomes, onOutcome } = collect();
    const running = executor(events).run(jobs, onOutcome);
    const queue = new Queue(PAIR_JOBS_QUEUE, { connection: parseRedisUrl(redis.url) as never, prefix: 'pf' });
    await expect.poll(() => queue.getWaitingCount()).toBe(4);
    // What a Redis crash between fsyncs can do: the job is simply gone.
    const lostId = bullMqJobId(jobs[2]);
    await client().multi().del(queue.toKey(lostId)).lrem(queue.keys.wait, 0, lostId).exec();
    await queue.close();
    await startWorker();
    await running;
    expect(outcomes.map((outcome) => outcome.pair_id).sort()).toEqual(jobs.map((job) => job.pair.id));
    expect(events).toContain('jobs re-enqueued');
  });

  it('turns a job that failed for good into a failed outcome, and stops on an unreachable endpoint', async () => {
    await startWorker(fixture.baseUrl, {
      createBackend: async () => {
        throw new Error('this worker has no backend for the run');
      },
    });
    const events: string[] = [];
    const { outcomes, onOutcome } = collect();
    await executor(events, { attempts: 2, backoffMs: 10 }).run(jobsFor('failing', 2), onOutcome);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'failed']);
    expect(outcomes[0].error).toMatch(/this worker has no backend for the run/);
    expect(events).toContain('job failed in queue');

    for (const worker of workers.splice(0)) await worker.close(0);
    // A port nothing listens on (not 9: undici refuses the "bad ports" list before connecting).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await startWorker(`http://127.0.0.1:${closedPort}/v1`);
    const unreachable = collect();
    await expect(
      executor([], { attempts: 1 }).run(jobsFor('unreachable', 2), unreachable.onOutcome),
    ).rejects.toBeInstanceOf(EndpointUnreachableError);
    expect(unreachable.outcomes).toHaveLength(0);
  });

  it('on abort, takes back the jobs no worker has started', async () => {
    const controller = new AbortController();
    const { outcomes, onOutcome } = collect();
    const running = executor().run(jobsFor('aborted', 5), onOutcome, controller.signal);
    const queue = new Queue(PAIR_JOBS_QUEUE, { connection: parseRedisUrl(redis.url) as never, prefix: 'pf' });
    await expect.poll(() => queue.getWaitingCount()).toBe(5);
    controller.abort();
    await running;
    expect(outcomes).toHaveLength(0);
    expect(await queue.getWaitingCount()).toBe(0);
    await queue.close();
  });

  it('a closing worker hands its running jobs back to the queue after the grace period', async () => {
    fixture.setOptions({ latencyMs: 400 });
    const first = await startWorker();
    const jobs = jobsFor('released', 2);
    const { outcomes, onOutcome } = collect();
    const running = executor().run(jobs, onOutcome);
    const queue = new Queue(PAIR_JOBS_QUEUE, { connection: parseRedisUrl(redis.url) as never, prefix: 'pf' });
    await expect.poll(() => queue.getActiveCount()).toBe(2);
    await first.close(100);
    expect(await queue.getWaitingCount()).toBe(2);
    await queue.close();
    fixture.setOptions({ latencyMs: 0 });
    await startWorker();
    await running;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['accepted', 'accepted']);
  });
});
