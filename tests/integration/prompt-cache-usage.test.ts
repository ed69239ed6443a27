import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { recordUsage } from '../../src/llm/record-usage.ts';
import { cachedPromptShare, computeRoleCost } from '../../src/llm/compute-cost.ts';
import { addUsage } from '../../src/util/add-usage.ts';
import { emptyUsageByRole } from '../../src/schemas/usage.ts';

/** A loopback chat completions endpoint that reports provider prompt caching like OpenAI does. */
let server: Server;
let baseUrl: string;
let cachedTokens: number | undefined = 1536;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const usage: Record<string, unknown> = { prompt_tokens: 2000, completion_tokens: 50, total_tokens: 2050 };
      if (cachedTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: cachedTokens, audio_tokens: 0 };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [
            { index: 0, message: { role: 'assistant', content: 'User 1: Hi\nUser 2: Hello' }, finish_reason: 'stop' },
          ],
          usage,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('provider prompt caching in usage and cost', () => {
  it('reads usage.prompt_tokens_details.cached_tokens and prices those tokens at the cached-input price', async () => {
    const backend = new OpenAiCompatibleBackend({
      baseUrl,
      apiKey: 'test-key',
      generatorModel: 'gpt-4o-mini',
      criticModel: 'gpt-4o-mini',
      timeoutMs: 5_000,
    });
    const recorded = recordUsage(backend);
    try {
      cachedTokens = 1536;
      await recorded.complete({ role: 'generator', messages: [{ role: 'user', content: 'write' }] });
      cachedTokens = undefined; // an endpoint that does not report caching
      await recorded.complete({ role: 'generator', messages: [{ role: 'user', content: 'write' }] });
    } finally {
      await backend.dispose();
    }
    expect(recorded.usage.generator).toMatchObject({
      prompt_tokens: 4000,
      completion_tokens: 100,
      calls: 2,
      cached_prompt_tokens: 1536,
    });

    const total = emptyUsageByRole();
    addUsage(total, recorded.usage);
    expect(total.generator.cached_prompt_tokens).toBe(1536);
    expect(cachedPromptShare(total)).toBeCloseTo(1536 / 4000);

    const models = { generator: 'gpt-4o-mini', critic: 'gpt-4o-mini' };
    const withCachedPrice = {
      'gpt-4o-mini': { input_per_million_usd: 0.15, output_per_million_usd: 0.6, cached_input_per_million_usd: 0.075 },
    };
    // (4000 − 1536) × 0.15 + 1536 × 0.075 + 100 × 0.6, per million.
    expect(computeRoleCost(withCachedPrice, models, total)).toBeCloseTo(
      (2464 * 0.15 + 1536 * 0.075 + 100 * 0.6) / 1e6,
      12,
    );
    // Without a cached-input price, cached tokens cost the input price.
    const { cached_input_per_million_usd: _unused, ...plain } = withCachedPrice['gpt-4o-mini'];
    expect(computeRoleCost({ 'gpt-4o-mini': plain }, models, total)).toBeCloseTo((4000 * 0.15 + 100 * 0.6) / 1e6, 12);
  });
});
