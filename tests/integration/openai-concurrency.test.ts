import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { limitConcurrency } from '../../src/llm/limit-concurrency.ts';
import type { LlmBackend } from '../../src/llm/llm-backend.ts';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';

let fixture: FixtureServer | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

function tenCalls(backend: LlmBackend) {
  return Promise.all(
    Array.from({ length: 10 }, (_, index) =>
      backend.complete({ role: 'critic', messages: [{ role: 'user', content: `question ${index}` }] }),
    ),
  );
}

describe('limitConcurrency over HTTP', () => {
  it('keeps at most maxInFlight requests at the server', async () => {
    fixture = await startFixtureServer({ latencyMs: 50 });
    const backend = new OpenAiCompatibleBackend({ baseUrl: fixture.baseUrl, generatorModel: 'g', criticModel: 'c' });
    const results = await tenCalls(limitConcurrency(backend, 3));
    expect(results).toHaveLength(10);
    expect(fixture.stats.total).toBe(10);
    expect(fixture.stats.maxConcurrent).toBeLessThanOrEqual(3);
    expect(fixture.stats.maxConcurrent).toBeGreaterThanOrEqual(2);
  });

  it('is what keeps the count down (unlimited calls overlap)', async () => {
    fixture = await startFixtureServer({ latencyMs: 50 });
    const backend = new OpenAiCompatibleBackend({ baseUrl: fixture.baseUrl, generatorModel: 'g', criticModel: 'c' });
    await tenCalls(backend);
    expect(fixture.stats.maxConcurrent).toBeGreaterThan(3);
  });

  it('rejects a maxInFlight that is not a positive integer', () => {
    const backend = new OpenAiCompatibleBackend({
      baseUrl: 'http://127.0.0.1:9/v1',
      generatorModel: 'g',
      criticModel: 'c',
    });
    expect(() => limitConcurrency(backend, 0)).toThrow('Expected `maxInFlight` to be a positive integer, got 0.');
  });
});
