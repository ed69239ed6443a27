import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { buildLlmStack } from '../../src/llm/build-llm-stack.ts';
import { faultToleranceFor } from '../../src/llm/fault-tolerance.ts';
import { completeStructured } from '../../src/llm/complete-structured.ts';
import { recordUsage } from '../../src/llm/record-usage.ts';
import {
  ALL_FAULT_KINDS,
  startFixtureServer,
  type FixtureServer,
  type FixtureServerOptions,
} from '../fixtures/openai-fixture-server.ts';

const CheckSchema = z.object({ contradicts: z.boolean(), rationale: z.string() });
let fixture: FixtureServer | undefined;
let adapter: OpenAiCompatibleBackend | undefined;

afterEach(async () => {
  await adapter?.dispose();
  await fixture?.close();
  fixture = adapter = undefined;
});

/** The run's LLM stack at default settings (10 retries, hedging, 120 s timeout) over the fixture. */
async function defaultStack(options: FixtureServerOptions) {
  fixture = await startFixtureServer(options);
  adapter = new OpenAiCompatibleBackend({
    baseUrl: fixture.baseUrl,
    generatorModel: 'g',
    criticModel: 'c',
    timeoutMs: 120_000,
  });
  const stack = buildLlmStack({
    adapter,
    maxInFlight: 8,
    faultTolerance: faultToleranceFor({ max_retries: 10, timeout_ms: 120_000, hedge: true }, adapter.kind),
  });
  return recordUsage(stack);
}

const check = (index: number) => ({
  role: 'critic' as const,
  messages: [
    {
      role: 'user' as const,
      content: `<profile>\n- I like tea ${index}\n</profile>\n<candidate>\nI ski\n</candidate>`,
    },
  ],
  seed: index,
});

describe('the LLM stack against a faulty endpoint', () => {
  it('completes every call with 30% of requests failing in every way, and counts the retries by cause', async () => {
    const backend = await defaultStack({ faults: { rate: 0.3, kinds: ALL_FAULT_KINDS, seed: 5, retryAfter: '1' } });
    const structured = Array.from({ length: 160 }, (_, index) =>
      completeStructured(backend, check(index), CheckSchema, 'contradiction_check'),
    );
    const generated = Array.from({ length: 16 }, (_, index) =>
      backend.complete({
        role: 'generator',
        messages: [{ role: 'user', content: `write ${index}` }],
        samples: 2,
        seed: index,
      }),
    );
    const results = await Promise.allSettled([...structured, ...generated]);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);

    const faults = { ...backend.usage.critic.faults!.retries };
    for (const [cause, count] of Object.entries(backend.usage.generator.faults?.retries ?? {}))
      faults[cause] = (faults[cause] ?? 0) + count;
    for (const cause of ['rate_limited', 'server_error', 'connection_reset', 'truncated_body', 'malformed_body']) {
      expect(faults[cause], cause).toBeGreaterThan(0);
    }
    // Hangs are hedged: the second copy answers.
    const hedges = (backend.usage.critic.faults?.hedges ?? 0) + (backend.usage.generator.faults?.hedges ?? 0);
    expect(fixture!.requests.some((request) => request.fault === 'hang')).toBe(true);
    expect(hedges).toBeGreaterThan(0);
    // Every failed request was retried or hedged (invalid content is repaired, not retried).
    const failedRequests = fixture!.requests.filter(
      (request) => request.fault && request.fault !== 'invalid-content',
    ).length;
    const retries = Object.values(faults).reduce((sum, count) => sum + count, 0);
    expect(retries + hedges).toBeGreaterThanOrEqual(failedRequests - hedges);
  }, 60_000);

  it('cuts hangs short at the learned deadline: hedged, and hedged again when the hedge hangs too', async () => {
    // Requests 12 and 13 (a request and its hedge) hang, as does 20; the timeout is 120 s.
    const backend = await defaultStack({ faults: { rate: 0, kinds: ['hang'], requestIndices: [12, 13, 20] } });
    for (let index = 0; index < 24; index++) {
      const { value } = await completeStructured(backend, check(index), CheckSchema, 'contradiction_check');
      expect(value.contradicts).toBe(false);
    }
    const faults = backend.usage.critic.faults!;
    // 12: a hedge (13, hangs) and a third copy (14, answers); 20: one hedge.
    expect(faults.hedges).toBe(3);
    expect(faults.retries).toEqual({});
    // The losers: 12 and 13, then 20.
    expect(faults.abandoned).toBe(3);
    expect(faults.abandoned_prompt_tokens).toBeGreaterThan(0);
    expect(fixture!.requests).toHaveLength(24 + 3);
  }, 30_000);
});
