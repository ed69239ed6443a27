import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import {
  OpenAiCompatibleBackend,
  type OpenAiCompatibleBackendOptions,
} from '../../src/llm/openai/openai-compatible-backend.ts';
import { EndpointUnreachableError, LlmError } from '../../src/errors.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';
import { DEFAULT_RETRY_POLICY, retryBackend } from '../../src/llm/retry-policy.ts';
import {
  startFixtureServer,
  type FixtureServer,
  type FixtureServerOptions,
} from '../fixtures/openai-fixture-server.ts';

const API_KEY = 'sk-secret-test';
let fixture: FixtureServer | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function setup(
  serverOptions: FixtureServerOptions = {},
  backendOptions: Partial<OpenAiCompatibleBackendOptions> = {},
) {
  fixture = await startFixtureServer(serverOptions);
  const backend = new OpenAiCompatibleBackend({
    baseUrl: fixture.baseUrl,
    apiKey: API_KEY,
    generatorModel: 'fixture-generator',
    criticModel: 'fixture-critic',
    timeoutMs: 5_000,
    ...backendOptions,
  });
  return { fixture, backend };
}

const FEW_SHOT = [
  'User 1 persona:\n- I collect stamps.\n- I am a nurse.\nUser 2 persona:\n- I play the violin.\n- I live in Oslo.\nConversation:',
  'User 1: hi there\nUser 2: hello',
].join('\n');
const TARGET =
  'User 1 persona:\n- I love hiking.\n- I have two dogs.\nUser 2 persona:\n- I am a teacher.\n- My favorite color is blue.\nConversation:';

function generatorRequest(extra: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    role: 'generator',
    messages: [
      { role: 'system', content: 'You write conversations between two users.' },
      { role: 'user', content: `${FEW_SHOT}\n\n${TARGET}` },
    ],
    temperature: 0.7,
    topP: 0.95,
    topK: 40,
    maxOutputTokens: 800,
    ...extra,
  };
}

function errorTexts(error: unknown): string {
  return inspect(error, { depth: 10 }) + String((error as Error).message);
}

describe('OpenAiCompatibleBackend over HTTP', () => {
  it('completes a generator request with mapped sampling parameters and real usage', async () => {
    const { fixture, backend } = await setup();
    const result = await backend.complete(generatorRequest({ seed: 11 }));
    expect(result.texts).toHaveLength(1);
    expect(result.model).toBe('fixture-generator');
    const lines = result.texts[0].split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^User 1: /);
    expect(lines[1]).toMatch(/^User 2: /);
    expect(result.texts[0]).toContain('hiking');
    expect(result.texts[0]).not.toContain('stamps');
    for (const attribute of ['I love hiking.', 'I have two dogs.', 'I am a teacher.', 'My favorite color is blue.']) {
      expect(result.texts[0].toLowerCase()).not.toContain(attribute.toLowerCase());
    }
    const body = fixture.requests[0].body;
    expect(body).toMatchObject({
      model: 'fixture-generator',
      temperature: 0.7,
      top_p: 0.95,
      max_tokens: 800,
      seed: 11,
    });
    expect(body).not.toHaveProperty('top_k');
    expect(body).not.toHaveProperty('n');
    expect(fixture.requests[0].kind).toBe('generator');
    expect(result.usage.calls).toBe(1);
    expect(result.usage.promptTokens).toBeGreaterThan(20);
    expect(result.usage.completionTokens).toBe(result.texts[0].split(/\s+/).length);
  });

  it('sends top_k only when sendTopK is set, and uses the critic model for critics', async () => {
    const { fixture, backend } = await setup({}, { sendTopK: true });
    await backend.complete(generatorRequest());
    await backend.complete({ role: 'critic', messages: [{ role: 'user', content: 'hi' }], topK: 5 });
    expect(fixture.requests[0].body.top_k).toBe(40);
    expect(fixture.requests[1].body).toMatchObject({ model: 'fixture-critic', top_k: 5 });
  });

  it('estimates usage at ~4 characters per token when the endpoint reports none', async () => {
    const { backend } = await setup({ reportUsage: false });
    const result = await backend.complete(generatorRequest());
    expect(result.usage.completionTokens).toBe(Math.ceil(result.texts[0].length / 4));
    expect(result.usage.promptTokens).toBeGreaterThan(0);
  });

  it('asks for n samples in one request when the endpoint supports n', async () => {
    const { fixture, backend } = await setup();
    const result = await backend.complete(generatorRequest({ samples: 3, seed: 7 }));
    expect(result.texts).toHaveLength(3);
    expect(new Set(result.texts).size).toBe(3);
    expect(fixture.requests).toHaveLength(1);
    expect(fixture.requests[0].body.n).toBe(3);
    expect(result.usage.calls).toBe(1);
  });

  it('falls back to separate seeded calls when fewer choices come back, and remembers it', async () => {
    const { fixture, backend } = await setup({ supportsN: false });
    const result = await backend.complete(generatorRequest({ samples: 3, seed: 7 }));
    expect(result.texts).toHaveLength(3);
    expect(new Set(result.texts).size).toBe(3);
    expect(fixture.requests.map((request) => [request.body.n, request.body.seed])).toEqual([
      [3, 7],
      [undefined, 8],
      [undefined, 9],
    ]);
    expect(result.usage.calls).toBe(3);

    const again = await backend.complete(generatorRequest({ samples: 2, seed: 20 }));
    expect(again.texts).toHaveLength(2);
    expect(fixture.requests.slice(3).map((request) => [request.body.n, request.body.seed])).toEqual([
      [undefined, 20],
      [undefined, 21],
    ]);
  });

  it('falls back to separate calls when the endpoint rejects n with 400', async () => {
    const { fixture, backend } = await setup({ rejectN: true });
    const result = await backend.complete(generatorRequest({ samples: 2, seed: 1 }));
    expect(new Set(result.texts).size).toBe(2);
    expect(fixture.requests.map((request) => request.body.n ?? 1)).toEqual([2, 1, 1]);
    expect(result.usage.calls).toBe(3);
  });

  it('never sends n in separate mode', async () => {
    const { fixture, backend } = await setup({}, { samplesMode: 'separate' });
    const result = await backend.complete(generatorRequest({ samples: 2, seed: 3 }));
    expect(result.texts).toHaveLength(2);
    expect(fixture.requests.map((request) => request.body.n)).toEqual([undefined, undefined]);
  });

  it('maps a 500 to a retryable LlmError with status and request id once retries are exhausted', async () => {
    const { fixture, backend } = await setup({ faults: { rate: 1, kinds: ['500'] } });
    const error = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).not.toBeInstanceOf(EndpointUnreachableError);
    expect(error).toMatchObject({ status: 500, retryable: true, requestId: 'req_fixture_0' });
    expect(fixture.stats.total).toBe(1);
    expect(errorTexts(error)).not.toContain(API_KEY);
  });

  it('sends each request once (the SDK retries nothing), and reports the 429 with its Retry-After', async () => {
    const { fixture, backend } = await setup({
      faults: { rate: 0, kinds: ['429'], requestIndices: [0], retryAfter: '7' },
    });
    const error = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(error).toMatchObject({ status: 429, retryable: true, fault: 'rate_limited', retryAfterMs: 7_000 });
    expect(error.message).toContain('lower --concurrency');
    expect(fixture.stats.total).toBe(1);
  });

  it('under retryBackend: retries a 429 (Retry-After: 0) and counts it by cause in usage', async () => {
    const { fixture, backend } = await setup({ faults: { rate: 0, kinds: ['429'], requestIndices: [0] } });
    const result = await retryBackend(backend, { ...DEFAULT_RETRY_POLICY, maxRetries: 2 }).complete(generatorRequest());
    expect(result.texts).toHaveLength(1);
    expect(fixture.stats.total).toBe(2);
    expect(result.usage.faults?.retries).toEqual({ rate_limited: 1 });
  });

  it('under retryBackend: cuts a long Retry-After down to maxRetryAfterMs', async () => {
    const { fixture, backend } = await setup({
      faults: { rate: 0, kinds: ['429'], requestIndices: [0], retryAfter: '3600' },
    });
    const retrying = retryBackend(backend, { ...DEFAULT_RETRY_POLICY, maxRetries: 1, maxRetryAfterMs: 20 });
    const result = await retrying.complete(generatorRequest());
    expect(result.texts).toHaveLength(1);
    expect(fixture.stats.total).toBe(2);
  });

  it('maps a 404 (wrong base path) to a non-retryable error that says how to fix it', async () => {
    const { fixture, backend } = await setup();
    const badPath = new OpenAiCompatibleBackend({
      baseUrl: fixture.baseUrl.replace(/\/v1$/, '/nope'),
      apiKey: API_KEY,
      generatorModel: 'g',
      criticModel: 'c',
    });
    const error = await badPath.complete(generatorRequest()).catch((caught) => caught);
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(error.message).toContain('--base-url');
    expect(errorTexts(error)).not.toContain(API_KEY);
    await backend.dispose();
  });

  it('turns a timeout (hanging server) into a retryable LlmError', async () => {
    const { backend } = await setup({ faults: { rate: 1, kinds: ['hang'] } }, { timeoutMs: 200 });
    const error = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toMatch(/timed out after 200 ms/);
  });

  it('turns truncated and malformed bodies into retryable LlmErrors', async () => {
    const { backend, fixture } = await setup({ faults: { rate: 1, kinds: ['truncated'] } });
    const truncated = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(truncated).toBeInstanceOf(LlmError);
    expect(truncated.retryable).toBe(true);
    fixture.setOptions({ faults: { rate: 1, kinds: ['malformed'] } });
    const malformed = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(malformed).toBeInstanceOf(LlmError);
    expect(malformed.retryable).toBe(true);
    expect(errorTexts(truncated) + errorTexts(malformed)).not.toContain(API_KEY);
    expect([truncated.fault, malformed.fault]).toEqual(['truncated_body', 'malformed_body']);
  });

  it('names each transient fault the retry policy counts: 503, connection reset, invalid content', async () => {
    const { backend, fixture } = await setup({ faults: { rate: 1, kinds: ['503'] } });
    expect(await backend.complete(generatorRequest()).catch((caught) => caught)).toMatchObject({
      status: 503,
      retryable: true,
      fault: 'server_error',
    });
    fixture.setOptions({ faults: { rate: 1, kinds: ['reset'] } });
    const reset = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(reset).toMatchObject({ retryable: true, fault: 'connection_reset' });
    expect(reset).not.toBeInstanceOf(EndpointUnreachableError);
    // A 200 whose content is not JSON is the adapter's success: completeStructured repairs it and the policy re-asks.
    fixture.setOptions({ faults: { rate: 1, kinds: ['invalid-content'] } });
    const result = await backend.complete({
      role: 'critic',
      messages: [{ role: 'user', content: 'JSON schema "critic_x": {}' }],
    });
    expect(result.texts[0]).toContain('fixture invalid content');
  });

  it('reports connection refused as EndpointUnreachableError naming the URL, never the key', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}/v1`;
    const backend = new OpenAiCompatibleBackend({
      baseUrl,
      apiKey: API_KEY,
      generatorModel: 'g',
      criticModel: 'c',
    });
    const error = await backend.complete(generatorRequest()).catch((caught) => caught);
    expect(error).toBeInstanceOf(EndpointUnreachableError);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(baseUrl);
    expect(error.message).toContain('--base-url or OPENAI_BASE_URL');
    expect(error.message).toContain('ECONNREFUSED');
    expect(errorTexts(error)).not.toContain(API_KEY);
  });

  it('treats an empty reply as a retryable LlmError', async () => {
    const server = createHttpServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 0,
          model: 'g',
          choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' }],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as { port: number };
    const backend = new OpenAiCompatibleBackend({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      generatorModel: 'g',
      criticModel: 'c',
    });
    try {
      const error = await backend.complete(generatorRequest()).catch((caught) => caught);
      expect(error).toBeInstanceOf(LlmError);
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('empty reply');
    } finally {
      await backend.dispose();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rejects an unusable base URL up front', () => {
    expect(() => new OpenAiCompatibleBackend({ baseUrl: '', generatorModel: 'g', criticModel: 'c' })).toThrow(
      /baseUrl/,
    );
  });
});

/** A loopback port with nothing listening (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
