import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startBatchFixture, type BatchFixture } from '../fixtures/openai-batch-fixture.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { OpenAiConnection, type ProxySettings } from '../../src/llm/openai/openai-connection.ts';
import { startConnectProxy } from '../fixtures/connect-proxy.ts';
import { BatchingConnection, type BatchProgress } from '../../src/llm/batch/batching-connection.ts';
import { recordUsage } from '../../src/llm/record-usage.ts';
import { computeRoleCost } from '../../src/llm/compute-cost.ts';
import { LlmError } from '../../src/errors.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';
import * as library from '../../src/index.ts';

let chat: FixtureServer;
let batches: BatchFixture;
let directory: string;

beforeAll(async () => {
  chat = await startFixtureServer();
  batches = await startBatchFixture({ chatUrl: `${chat.baseUrl}/chat/completions` });
  directory = await mkdtemp(join(tmpdir(), 'pf-batch-'));
});
afterAll(async () => {
  await batches?.close();
  await chat?.close();
});

function batchingBackend(stateFile: string, progress: BatchProgress[] = [], proxy?: ProxySettings) {
  const connection = new BatchingConnection({
    connection: new OpenAiConnection({ baseUrl: batches.baseUrl, timeoutMs: 5_000, proxy }),
    stateFile,
    quietWindowMs: 50,
    pollIntervalMs: 10,
    onProgress: (event) => progress.push(event),
  });
  const backend = new OpenAiCompatibleBackend({
    baseUrl: batches.baseUrl,
    generatorModel: 'gen',
    criticModel: 'critic',
    connection,
  });
  return { connection, backend };
}

const generator = (seed: number): CompletionRequest => ({
  role: 'generator',
  messages: [
    {
      role: 'user',
      content: `Write a conversation.\nUser 1 persona:\n- I have a dog.\nUser 2 persona:\n- I bake.\nConversation:`,
    },
  ],
  seed,
  maxOutputTokens: 200,
});

describe('BatchingConnection over a loopback Batch API', () => {
  it('sends requests that arrive together as one batch, reports progress, and prices them as batch tokens', async () => {
    const before = { ...batches.stats };
    const progress: BatchProgress[] = [];
    const { backend } = batchingBackend(join(directory, 'one-batch.jsonl'), progress);
    const recorded = recordUsage(backend);
    const results = await Promise.all([1, 2, 3].map((seed) => recorded.complete(generator(seed))));
    await backend.dispose();
    expect(results.every((result) => result.texts[0].includes('User 1:'))).toBe(true);
    expect(batches.stats.batchesCreated - before.batchesCreated).toBe(1);
    expect(batches.stats.requestLines - before.requestLines).toBe(3);
    expect(progress.map((event) => event.status)).toContain('in_progress');
    expect(progress.at(-1)).toMatchObject({
      status: 'completed',
      total: 3,
      completed: 3,
      failed: 0,
      reattached: false,
    });

    const usage = recorded.usage.generator;
    expect(usage.batch_prompt_tokens).toBe(usage.prompt_tokens);
    expect(usage.batch_completion_tokens).toBe(usage.completion_tokens);
    const prices = { gen: { input_per_million_usd: 1, output_per_million_usd: 2 } };
    const full = (usage.prompt_tokens * 1 + usage.completion_tokens * 2) / 1e6;
    expect(computeRoleCost(prices, { generator: 'gen', critic: 'critic' }, recorded.usage)).toBeCloseTo(full / 2, 12);
  });

  it('splits requests waiting together over several batches beyond maxRequestsPerBatch', async () => {
    const before = { ...batches.stats };
    const connection = new BatchingConnection({
      connection: new OpenAiConnection({ baseUrl: batches.baseUrl, timeoutMs: 5_000 }),
      stateFile: join(directory, 'split.jsonl'),
      quietWindowMs: 50,
      pollIntervalMs: 10,
      maxRequestsPerBatch: 2,
    });
    const backend = new OpenAiCompatibleBackend({
      baseUrl: batches.baseUrl,
      generatorModel: 'gen',
      criticModel: 'critic',
      connection,
    });
    try {
      const results = await Promise.all([1, 2, 3, 4, 5].map((seed) => backend.complete(generator(seed + 100))));
      expect(results.every((result) => result.texts[0].includes('User 1:'))).toBe(true);
      expect(batches.stats.batchesCreated - before.batchesCreated).toBe(3);
      expect(batches.stats.requestLines - before.requestLines).toBe(5);
    } finally {
      await backend.dispose();
    }
  });

  it('rejects a request the batch reports as failed with a retryable LlmError; asking again goes into a new batch', async () => {
    const before = { ...batches.stats };
    let failOnce = true;
    batches.setOptions({ failRequest: () => (failOnce ? !(failOnce = false) : false) });
    const { backend, connection } = batchingBackend(join(directory, 'failed.jsonl'));
    try {
      const error = await backend.complete(generator(7)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmError);
      expect(error).toMatchObject({ retryable: true, status: 500 });
      const retried = await backend.complete(generator(7));
      expect(retried.texts[0]).toContain('User 1:');
      expect(batches.stats.batchesCreated - before.batchesCreated).toBe(2);
      expect(connection.counts).toMatchObject({ batchesSubmitted: 2, requestsFailed: 1 });
    } finally {
      batches.setOptions({ failRequest: undefined });
      await backend.dispose();
    }
  });

  it('re-attaches a restarted process to the pending batch in batches.jsonl instead of submitting again', async () => {
    const stateFile = join(directory, 'restart.jsonl');
    batches.setOptions({ hold: true });
    const first = batchingBackend(stateFile);
    const abandoned = first.backend.complete(generator(42)).catch((error: unknown) => error);
    while (!(await readFile(stateFile, 'utf8').catch(() => '')).includes('"submitted"'))
      await new Promise((resolve) => setTimeout(resolve, 10));
    await first.backend.dispose(); // the process "stops" while the batch is pending
    expect(await abandoned).toBeInstanceOf(LlmError);
    const created = batches.stats.batchesCreated;

    batches.setOptions({ hold: false });
    const progress: BatchProgress[] = [];
    const second = batchingBackend(stateFile, progress);
    try {
      const result = await second.backend.complete(generator(42));
      expect(result.texts[0]).toContain('User 1:');
      expect(batches.stats.batchesCreated).toBe(created);
      expect(second.connection.counts).toMatchObject({ batchesSubmitted: 0, batchesReattached: 1 });
      expect(progress.at(-1)).toMatchObject({ status: 'completed', reattached: true });
      const lines = (await readFile(stateFile, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map((line) => line.status)).toEqual(['uploaded', 'submitted', 'reattached', 'completed']);
    } finally {
      await second.backend.dispose();
    }
  });

  it('finds the batch of an upload whose submitted line a crash lost, instead of submitting it again', async () => {
    const stateFile = join(directory, 'lost-line.jsonl');
    batches.setOptions({ hold: true });
    const first = batchingBackend(stateFile);
    const abandoned = first.backend.complete(generator(77)).catch((error: unknown) => error);
    while (!(await readFile(stateFile, 'utf8').catch(() => '')).includes('"submitted"'))
      await new Promise((resolve) => setTimeout(resolve, 10));
    await first.backend.dispose();
    await abandoned;
    // The state a SIGKILL right after the batch was created leaves: the upload recorded, the batch not.
    const lines = (await readFile(stateFile, 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).status)).toEqual(['uploaded', 'submitted']);
    await writeFile(stateFile, `${lines[0]}\n`);
    const created = batches.stats.batchesCreated;
    const lists = batches.stats.lists;

    batches.setOptions({ hold: false });
    const second = batchingBackend(stateFile);
    try {
      const result = await second.backend.complete(generator(77));
      expect(result.texts[0]).toContain('User 1:');
      expect(batches.stats.batchesCreated).toBe(created);
      expect(batches.stats.lists).toBe(lists + 1);
      expect(second.connection.counts).toMatchObject({ batchesSubmitted: 0, batchesReattached: 1 });
      const statuses = (await readFile(stateFile, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).status);
      expect(statuses).toEqual(['uploaded', 'submitted', 'reattached', 'completed']);
    } finally {
      await second.backend.dispose();
    }
  });

  it('uploads the batch file, like every other request, through the proxy the settings name', async () => {
    const proxy = await startConnectProxy();
    const uploads = batches.stats.uploadClientPorts.length;
    const { backend } = batchingBackend(join(directory, 'proxied.jsonl'), [], { httpProxy: proxy.url });
    try {
      const result = await backend.complete(generator(11));
      expect(result.texts[0]).toContain('User 1:');
    } finally {
      await backend.dispose();
      await proxy.close();
    }
    const uploadPorts = batches.stats.uploadClientPorts.slice(uploads);
    expect(uploadPorts).toHaveLength(1);
    // The fixture saw the upload arrive from the proxy's end of a tunnel, not from a direct connection.
    expect(proxy.upstreamPorts).toContain(uploadPorts[0]);
    expect(new Set(proxy.targets)).toEqual(new Set([new URL(batches.baseUrl).host]));
  });

  it('runs through the library API: applyBatchMode, createBatchingConnection, runPipeline', async () => {
    const before = { ...batches.stats };
    const config = library.applyBatchMode(
      await library.loadRunConfig({
        flags: {
          out: directory,
          run_id: 'library-run',
          iterations: 1,
          pairs: 2,
          candidates: 2,
          llm: { base_url: batches.baseUrl, model: 'gen', batch: true, batch_poll_interval_ms: 10 },
        },
      }),
    );
    const connection = library.createBatchingConnection(config, { baseUrl: batches.baseUrl });
    const backend = new library.OpenAiCompatibleBackend({
      baseUrl: batches.baseUrl,
      generatorModel: 'gen',
      criticModel: 'gen',
      connection,
    });
    try {
      const { manifest } = await library.runPipeline(config, { backend });
      expect(manifest.totals.pairs).toBe(2);
      expect(batches.stats.directRequests).toBe(before.directRequests);
      expect(manifest.batches).toMatchObject({
        batches: batches.stats.batchesCreated - before.batchesCreated,
        requests: batches.stats.requestLines - before.requestLines,
        failed_requests: 0,
      });
      expect(manifest.batches!.requests_by_stage.text).toBe(2);
    } finally {
      await backend.dispose();
    }
  });
});
