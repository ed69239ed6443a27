import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { LexicalEmbedder } from '../../src/llm/embedders/lexical-embedder.ts';
import { cosineSimilarity } from '../../src/llm/embedders/embedder.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { expandPersonas, type ExpansionProgress } from '../../src/personas/expansion/expand-personas.ts';
import { loadSeedAttributes } from '../../src/personas/load-seed-attributes.ts';
import type { Attribute } from '../../src/schemas/attribute.ts';
import { ExpansionStatsSchema } from '../../src/schemas/persona-expansion.ts';
import {
  startPersonasFixtureServer,
  type PersonasFixtureServer,
} from '../fixtures/personas/personas-fixture-server.ts';

const SEEDS_FILE = join(import.meta.dirname, '..', 'fixtures', 'personas', 'seed-attributes.jsonl');
let server: PersonasFixtureServer;
let backend: OpenAiCompatibleBackend;
let seeds: Attribute[];
let dir: string;

beforeAll(async () => {
  server = await startPersonasFixtureServer();
  backend = new OpenAiCompatibleBackend({
    baseUrl: server.baseUrl,
    generatorModel: 'fixture-generator',
    criticModel: 'fixture-critic',
  });
  seeds = await loadSeedAttributes(SEEDS_FILE);
  dir = await mkdtemp(join(tmpdir(), 'persona-forge-expansion-'));
});
afterAll(async () => {
  await backend?.dispose();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
const baseInput = (out: string) => ({ seeds, target: 70, out, seed: 4, queryBootstrapSteps: 4, clusterThreshold: 0.8 });

describe('expandPersonas over the HTTP fixture', () => {
  it('induces questions, bootstraps questions and attributes, and writes files and Table 1 statistics', async () => {
    const out = join(dir, 'full', 'attributes.jsonl');
    const phases = new Set<string>();
    const result = await expandPersonas(baseInput(out), {
      backend,
      embedder: new LexicalEmbedder(),
      onProgress: (progress) => phases.add(progress.phase),
    });
    expect([...phases]).toEqual(['cluster', 'induce-queries', 'bootstrap-queries', 'bootstrap-personas', 'done']);

    const written: Attribute[] = await readLines(out);
    expect(written).toEqual(result.attributes);
    expect(written).toHaveLength(70);
    expect(new Set(written.map((attribute) => attribute.id)).size).toBe(70);
    for (const attribute of written) {
      expect(attribute.cluster).toMatch(/^[cq]\d{4}$/);
      expect(attribute.query).toMatch(/\?$/);
    }
    const expanded = written.filter((attribute) => attribute.id.startsWith('x'));
    expect(expanded).toHaveLength(30);
    for (const attribute of expanded) expect(attribute.text).toMatch(/^(I|My) /);
    expect(
      written
        .filter((attribute) => !attribute.id.startsWith('x'))
        .map((attribute) => attribute.id)
        .sort(),
    ).toEqual(seeds.map((attribute) => attribute.id).sort());

    // No kept attribute is a near-duplicate (cosine > 0.9) of another.
    const embedder = new LexicalEmbedder();
    const vectors = await embedder.embed(written.map((attribute) => attribute.text));
    for (let i = 0; i < vectors.length; i++) {
      for (let j = i + 1; j < vectors.length; j++)
        expect(cosineSimilarity(vectors[i], vectors[j])).toBeLessThanOrEqual(0.9 + 1e-9);
    }

    const stats = ExpansionStatsSchema.parse(JSON.parse(await readFile(`${out}.stats.json`, 'utf8')));
    expect(stats).toEqual(result.stats);
    expect(stats.seed.attributes).toBe(40);
    expect(stats.expanded.attributes).toBe(70);
    expect(stats.seed.clusters).toBe(result.queries.filter((query) => query.source === 'induced').length);
    expect(stats.expanded.clusters).toBeGreaterThanOrEqual(stats.seed.clusters);
    expect(stats.seed.mean_inter_cluster_distance).toBeGreaterThan(0.5);
    expect(stats.seed.mean_length_tokens).toBeGreaterThan(4);
    expect(stats.queries.bootstrapped).toBeGreaterThan(0);
    expect(stats.rejected.malformed).toBeGreaterThan(0);
    expect(stats.complete).toBe(true);
    expect(server.answered.persona_query_induction).toBeGreaterThanOrEqual(stats.seed.clusters);
    expect(result.usage.calls).toBeGreaterThan(0);

    const log = await readLines(`${out}.queries.jsonl`);
    expect(log.filter((record) => record.kind === 'cluster')).toHaveLength(stats.seed.clusters);
    expect(log.filter((record) => record.kind === 'query-step').map((record) => record.step)).toEqual([0, 1, 2, 3]);
  });

  it('gives the same output for the same seed (and concurrency: it sets the batch size)', async () => {
    const first = join(dir, 'same-1', 'attributes.jsonl');
    const second = join(dir, 'same-2', 'attributes.jsonl');
    await expandPersonas({ ...baseInput(first), concurrency: 1 }, { backend, embedder: new LexicalEmbedder() });
    await expandPersonas({ ...baseInput(second), concurrency: 1 }, { backend, embedder: new LexicalEmbedder() });
    expect(await readFile(second, 'utf8')).toBe(await readFile(first, 'utf8'));
  });

  it('continues an interrupted run from its files without repeating work', async () => {
    const out = join(dir, 'resume', 'attributes.jsonl');
    const controller = new AbortController();
    const onProgress = (progress: ExpansionProgress) => {
      if (progress.phase === 'bootstrap-personas' && progress.attributes >= 50) controller.abort();
    };
    const partial = await expandPersonas(baseInput(out), {
      backend,
      embedder: new LexicalEmbedder(),
      onProgress,
      signal: controller.signal,
    });
    expect(partial.stats.complete).toBe(false);
    expect(partial.attributes.length).toBeGreaterThanOrEqual(50);
    expect(partial.attributes.length).toBeLessThan(70);
    const before = await readFile(out, 'utf8');
    const inductionCalls = server.answered.persona_query_induction;

    const resumed = await expandPersonas(baseInput(out), { backend, embedder: new LexicalEmbedder() });
    expect(resumed.resumed).toBe(true);
    expect(resumed.stats.complete).toBe(true);
    expect(resumed.attributes).toHaveLength(70);
    expect(new Set(resumed.attributes.map((attribute) => attribute.id)).size).toBe(70);
    expect((await readFile(out, 'utf8')).startsWith(before)).toBe(true);
    // Induction and query bootstrapping were done already: no new induction calls.
    expect(server.answered.persona_query_induction).toBe(inductionCalls);
    const log = await readLines(`${out}.queries.jsonl`);
    expect(log.filter((record) => record.kind === 'query-step')).toHaveLength(4);
  });

  it('refuses to continue an output made from other settings', async () => {
    const out = join(dir, 'mismatch', 'attributes.jsonl');
    await expandPersonas({ ...baseInput(out), target: 45 }, { backend, embedder: new LexicalEmbedder() });
    const failure = await expandPersonas(
      { ...baseInput(out), clusterThreshold: 0.3 },
      { backend, embedder: new LexicalEmbedder() },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as Error).message).toMatch(
      /cluster c\d{4} of the earlier run had other members: the seeds, embedder or cluster threshold changed/,
    );
  });
});

const TINY_MODEL_FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'tiny-model.ts');
if (!existsSync(TINY_MODEL_FIXTURE))
  console.warn('[personas-expansion] SKIPPED the tiny local model test: tests/fixtures/tiny-model.ts is absent.');

describe.skipIf(!existsSync(TINY_MODEL_FIXTURE))(
  'expandPersonas over the tiny local model (mechanics only)',
  { timeout: 180_000 },
  async () => {
    const { useTinyModel } = await import('../fixtures/tiny-model.ts');
    const tinyModel = useTinyModel();

    it('runs every phase against a real local model and writes its files', async () => {
      const { createLlamaCppBackend } = await import('../../src/llm/llama/create-llama-cpp-backend.ts');
      const local = await createLlamaCppBackend({
        modelPath: tinyModel.path,
        threads: 1,
        contextSize: 4096,
        parallelSequences: 1,
      });
      try {
        const out = join(dir, 'tiny', 'attributes.jsonl');
        const result = await expandPersonas(
          {
            seeds: seeds.slice(0, 6),
            target: 8,
            out,
            seed: 1,
            queryBootstrapSteps: 1,
            maxAttempts: 2,
            concurrency: 1,
            maxOutputTokens: 60,
            clusterThreshold: 0.5,
          },
          { backend: local, embedder: new LexicalEmbedder() },
        );
        // Random weights write valid JSON but not sensible English: attributes may all be rejected.
        expect(result.attributes.length).toBeGreaterThanOrEqual(6);
        expect(result.stats.seed.attributes).toBe(6);
        expect(result.queries.filter((query) => query.source === 'induced').length).toBe(result.stats.seed.clusters);
        expect(existsSync(`${out}.stats.json`)).toBe(true);
        expect(existsSync(`${out}.queries.jsonl`)).toBe(true);
        expect(result.usage.calls).toBeGreaterThan(0);
      } finally {
        await local.dispose();
      }
    });
  },
);
