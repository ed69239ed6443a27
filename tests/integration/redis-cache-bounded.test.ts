/**
 * The Redis response cache holds only what a resume can still use: replies of committed pairs
 * are dropped when the coordinator commits them, so its size follows the pairs in flight, not
 * the pairs done. Real redis-server, real BullMQ executor and worker, HTTP fixture endpoint.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMqExecutor } from '../../src/executors/bullmq-executor.ts';
import { startBullMqWorker } from '../../src/executors/bullmq-worker.ts';
import { createRedisClient } from '../../src/executors/redis/redis-connection.ts';
import { dropCommittedPairReplies, RedisResponseCache } from '../../src/executors/redis/redis-response-cache.ts';
import { RedisCommandBatch } from '../../src/executors/redis/redis-command-batch.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';
import type { PairJob } from '../../src/schemas/pair-job.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import { loadPromptTemplate } from '../../src/generation/load-prompt-template.ts';
import { loadSeedConversations } from '../../src/personas/load-seed-conversations.ts';
import { defaultSeedPaths } from '../../src/personas/load-seed-attributes.ts';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.ts';
import { serviceMissing } from '../fixtures/require-service.ts';

const redisMissing = serviceMissing(
  'redis-server',
  'the Redis response-cache tests (tests/integration/redis-cache-bounded.test.ts)',
);

let redis: RedisServer;
let fixture: FixtureServer;
let admin: Redis;

beforeAll(async () => {
  if (redisMissing) return;
  redis = await startRedisServer();
  fixture = await startFixtureServer();
  admin = createRedisClient(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await fixture?.close();
  await redis?.stop();
});

const countKeys = async (pattern: string) => {
  let count = 0;
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += batch.length;
  } while (cursor !== '0');
  return count;
};

describe.skipIf(redisMissing)('RedisResponseCache per pair', () => {
  it('drops the replies of committed pairs and keeps those of the others for a resume', async () => {
    const prefix = 'scoped';
    const connection = createRedisClient(redis.url);
    try {
      const cache = new RedisResponseCache(connection, { prefix });
      for (const pair of ['done-1', 'done-2', 'open-1']) {
        const scoped = cache.forPair(pair);
        for (let call = 0; call < 5; call++) await scoped.set(`${pair}-k${call}`, `reply ${call} of ${pair}`);
      }
      await RedisCommandBatch.for(connection).flushWith();
      expect(await countKeys(`${prefix}:cache:*`)).toBe(15);
      expect(await dropCommittedPairReplies(connection, prefix, ['done-1', 'done-2'])).toBe(10);
      expect(await countKeys(`${prefix}:cache:*`)).toBe(5);
      expect(await countKeys(`${prefix}:cache-index:*`)).toBe(1);
      // A resumed coordinator or worker (a new cache on a new connection) still finds the open pair's replies.
      const resumed = new RedisResponseCache(admin, { prefix });
      expect(await resumed.get('open-1-k3')).toBe('reply 3 of open-1');
      expect(await resumed.get('done-1-k3')).toBeUndefined();
      // Dropping a pair that cached nothing is a no-op.
      expect(await dropCommittedPairReplies(connection, prefix, ['never-ran'])).toBe(0);
    } finally {
      connection.disconnect();
    }
  });
});

describe.skipIf(redisMissing)('a BullMQ run with the cache on', () => {
  it('keeps the cache to the pairs in flight across many committed pairs, and ends with it empty', async () => {
    const prefix = 'bounded';
    const config = RunConfigSchema.parse({
      candidates: 2,
      // Both listwise orders every time: 3 cached replies per pair (the default asks the second only when unclear).
      critique: { second_order: 'always' },
      llm: { base_url: fixture.baseUrl, provider: 'openai', max_retries: 0 },
    });
    const critics = (await loadCritics()).filter((critic) => ['toxicity', 'coherency'].includes(critic.name));
    const context = { config, critics, template: await loadPromptTemplate() };
    const seeds = await loadSeedConversations(defaultSeedPaths().conversations);
    const jobs: PairJob[] = Array.from({ length: 40 }, (_, index) => ({
      run_id: 'bounded-run',
      iteration: 1,
      pool_version: 0,
      few_shot: seeds.slice(index % 3, (index % 3) + 2),
      pair: {
        id: `pair-${String(index).padStart(3, '0')}`,
        user1: { id: `a${index}`, attributes: ['I love dogs.', `I have ${index} cats.`] },
        user2: { id: `b${index}`, attributes: ['I am a chef.', 'I live by the sea.'] },
      },
    }));
    const worker = await startBullMqWorker({
      redisUrl: redis.url,
      prefix,
      concurrency: 3,
      createBackend: async (runConfig) => {
        const backend = new OpenAiCompatibleBackend({
          baseUrl: fixture.baseUrl,
          generatorModel: runConfig.llm.model,
          criticModel: runConfig.llm.model,
          timeoutMs: 5_000,
        });
        return { backend, dispose: () => backend.dispose(), endpoint: fixture.baseUrl };
      },
    });
    const executor = new BullMqExecutor({ redisUrl: redis.url, prefix, context, reconcileIntervalMs: 200 });
    let paidCalls = 0;
    let mostCached = 0;
    try {
      await worker.ready();
      await executor.run(jobs, async (outcome) => {
        paidCalls += outcome.usage.generator.calls + outcome.usage.critic.calls;
        mostCached = Math.max(mostCached, await countKeys(`${prefix}:cache:*`));
      });
    } finally {
      await worker.close(0);
      await executor.close();
    }
    console.log(
      `cache: ${paidCalls} paid calls over ${jobs.length} pairs, at most ${mostCached} entries cached at once`,
    );
    // Without dropping, the cache would end with one entry per paid call (or more: one per sample).
    const perPair = paidCalls / jobs.length;
    expect(paidCalls).toBeGreaterThan(100);
    // At most the pairs running (3) plus those read back in one batch and not yet committed.
    expect(mostCached).toBeLessThanOrEqual(perPair * 2 * 8);
    expect(mostCached).toBeLessThan(paidCalls / 2);
    expect(await countKeys(`${prefix}:cache:*`)).toBe(0);
    expect(await countKeys(`${prefix}:cache-index:*`)).toBe(0);
  }, 60_000);
});
