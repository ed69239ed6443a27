import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LexicalEmbedder } from '../../src/llm/embedders/lexical-embedder.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { OpenAiEmbedder } from '../../src/llm/openai/openai-embedder.ts';
import { buildConsistentProfiles } from '../../src/personas/build-consistent-profiles.ts';
import { createLlmContradictionCheck } from '../../src/personas/create-llm-contradiction-check.ts';
import { createLlmNegationCheck } from '../../src/personas/create-llm-negation-check.ts';
import { loadSeedAttributes } from '../../src/personas/load-seed-attributes.ts';
import { preparePairs } from '../../src/personas/prepare-pairs.ts';
import type { Attribute } from '../../src/schemas/attribute.ts';
import { PersonasConfigSchema } from '../../src/schemas/personas-config.ts';
import { PairSchema } from '../../src/schemas/pair.ts';
import { createRandom } from '../../src/util/create-random.ts';
import {
  startPersonasFixtureServer,
  type PersonasFixtureServer,
} from '../fixtures/personas/personas-fixture-server.ts';

const SEEDS_FILE = join(import.meta.dirname, '..', 'fixtures', 'personas', 'seed-attributes.jsonl');
const attribute = (id: string, text: string): Attribute => ({ id, text, category: 'test' });
const checkOptions = { temperature: 0, maxOutputTokens: 200, seed: 1 };

let server: PersonasFixtureServer;
let backend: OpenAiCompatibleBackend;
beforeAll(async () => {
  server = await startPersonasFixtureServer();
  backend = new OpenAiCompatibleBackend({
    baseUrl: server.baseUrl,
    generatorModel: 'fixture-generator',
    criticModel: 'fixture-critic',
  });
});
afterAll(async () => {
  await backend?.dispose();
  await server?.close();
});

/** Builds one profile from a two-attribute pool with the LLM contradiction check. */
async function twoAttributeProfile(first: string, second: string, seed: number) {
  return buildConsistentProfiles(
    {
      attributes: [attribute('x', first), attribute('y', second)],
      count: 1,
      attributesPerProfile: 2,
      redundancyThreshold: 0.9,
      minAttributes: 1,
    },
    {
      random: createRandom(seed),
      embedder: new LexicalEmbedder(),
      checkContradiction: createLlmContradictionCheck(backend, checkOptions),
    },
  );
}

describe('profile consistency over the HTTP fixture', () => {
  it('rejects the planted contradiction "I love dogs" / "I am afraid of all animals", whichever comes first', async () => {
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const result = await twoAttributeProfile('I love dogs.', 'I am afraid of all animals.', seed);
      expect(result.profiles[0].attributes).toHaveLength(1);
      expect(result.rejections.contradiction + result.rejections.contradiction_backward).toBe(1);
      seen.add(result.profiles[0].attributes[0]);
    }
    expect(seen).toEqual(new Set(['I love dogs.', 'I am afraid of all animals.']));
    expect(server.backing.stats.byKind.contradiction_check).toBeGreaterThan(0);
  });

  it('accepts a compatible attribute, asking both directions', async () => {
    const before = server.backing.stats.byKind.contradiction_check ?? 0;
    const result = await twoAttributeProfile('I love dogs.', 'I work as a nurse.', 1);
    expect([...result.profiles[0].attributes].sort()).toEqual(['I love dogs.', 'I work as a nurse.']);
    expect(result.rejections).toEqual({ redundant: 0, contradiction: 0, contradiction_backward: 0, negation: 0 });
    expect(result.checks).toBe(2);
    expect(server.backing.stats.byKind.contradiction_check - before).toBe(2);
  });

  it('keeps planted contradictions out of every profile of a larger pool', async () => {
    const seeds = await loadSeedAttributes(SEEDS_FILE);
    // A small pool, so the two planted attributes are often drawn for the same profile.
    const pool = [
      ...seeds.slice(5, 13),
      attribute('p1', 'I love dogs.'),
      attribute('p2', 'I am afraid of all animals.'),
    ];
    const result = await buildConsistentProfiles(
      { attributes: pool, count: 30, attributesPerProfile: 5, redundancyThreshold: 0.9 },
      {
        random: createRandom(9),
        embedder: new LexicalEmbedder(),
        checkContradiction: createLlmContradictionCheck(backend, checkOptions),
      },
    );
    expect(result.profiles).toHaveLength(30);
    for (const profile of result.profiles) {
      expect(profile.attributes).toHaveLength(5);
      const texts = profile.attributes.join(' ');
      expect(texts.includes('I love dogs.') && texts.includes('I am afraid of all animals.')).toBe(false);
    }
    expect(result.rejections.contradiction + result.rejections.contradiction_backward).toBeGreaterThan(0);
  });

  it("runs the paper's negation step: negate, then reject when the profile entails the negation", async () => {
    server.responders.entailment_check = (_body, prompt) => {
      const premise = /<premise>([\s\S]*?)<\/premise>/.exec(prompt)?.[1] ?? '';
      const hypothesis = /<hypothesis>([\s\S]*?)<\/hypothesis>/.exec(prompt)?.[1] ?? '';
      const entails = premise.includes('I hate dogs') && hypothesis.includes('It is not true that I love dogs');
      return { rationale: 'fixture', entails };
    };
    try {
      const checkNegation = createLlmNegationCheck(backend, checkOptions);
      expect(await checkNegation(['I hate dogs.'], 'I love dogs.')).toBe(true);
      expect(await checkNegation(['I love dogs.'], 'I hate dogs.')).toBe(true);
      expect(await checkNegation(['I work as a nurse.'], 'I love dogs.')).toBe(false);
      const result = await buildConsistentProfiles(
        {
          attributes: [attribute('a', 'I hate dogs.'), attribute('b', 'I love dogs.')],
          count: 1,
          attributesPerProfile: 2,
          redundancyThreshold: 0.99,
          minAttributes: 1,
        },
        {
          random: createRandom(2),
          embedder: new LexicalEmbedder(),
          checkContradiction: createLlmContradictionCheck(backend, checkOptions),
          checkNegation,
        },
      );
      expect(result.rejections.negation).toBe(1);
      expect(result.profiles[0].attributes).toHaveLength(1);
      expect(server.answered.attribute_negation).toBeGreaterThan(0);
    } finally {
      server.responders.entailment_check = () => ({ rationale: 'fixture', entails: false });
    }
  });
});

describe('preparePairs over the HTTP fixture', () => {
  it('synthesizes consistent profiles and pairs, deterministically for a seed', async () => {
    const seeds = await loadSeedAttributes(SEEDS_FILE);
    // Clusters by category: profiles often share > 2 same-cluster attribute pairs.
    const clustered = seeds.map((item) => ({ ...item, cluster: item.category }));
    const run = () =>
      preparePairs(
        { ...PersonasConfigSchema.parse({ profile_pool: 24 }), count: 8, seed: 1 },
        { backend, random: createRandom(42), embedder: new LexicalEmbedder(), seedAttributes: clustered },
      );
    const first = await run();
    expect(first.pairs).toHaveLength(8);
    for (const pair of first.pairs) PairSchema.parse(pair);
    expect(first.report.cluster_pairs + first.report.random_pairs).toBe(8);
    expect(first.report.cluster_pairs).toBeGreaterThan(0);
    expect(first.report.profiles).toBe(24);
    expect(Object.keys(first.report.rejections)).toEqual([
      'redundant',
      'contradiction',
      'contradiction_backward',
      'negation',
      'incomplete_profiles',
    ]);
    const uses = Object.entries(first.report.coverage.pairs_per_profile);
    expect(uses.every(([pairsPerProfile]) => Number(pairsPerProfile) <= 2)).toBe(true);
    expect((await run()).pairs).toEqual(first.pairs);
  });
});

describe('OpenAiEmbedder against an /embeddings endpoint', () => {
  it('batches requests and returns vectors in input order', async () => {
    const embedder = new OpenAiEmbedder({
      baseUrl: server.embeddingsBaseUrl,
      model: 'fixture-embed',
      batchSize: 3,
    });
    const texts = [
      'I have a dog.',
      'I work as a nurse.',
      'My dog is old.',
      'I play chess.',
      'I love tea.',
      'I run.',
      'I swim.',
    ];
    const before = server.embeddingRequests();
    const vectors = await embedder.embed(texts);
    expect(server.embeddingRequests() - before).toBe(3);
    expect(vectors).toHaveLength(7);
    // The fixture embeds with a lexical embedder and lists items in reverse: order must be restored.
    const expected = await new LexicalEmbedder({ dimensions: 256, corpus: [] }).embed(texts);
    expect(vectors).toEqual(expected);
    expect(embedder.kind).toBe('openai:fixture-embed');
  });

  it('names the endpoint when it cannot be reached', async () => {
    const embedder = new OpenAiEmbedder({ baseUrl: 'http://127.0.0.1:9/v1', maxRetries: 0 });
    await expect(embedder.embed(['I have a dog.'])).rejects.toThrow(/127\.0\.0\.1:9/);
  });
});

const TINY_MODEL_FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'tiny-model.ts');
if (!existsSync(TINY_MODEL_FIXTURE))
  console.warn('[personas-profiles] SKIPPED the tiny local model tests: tests/fixtures/tiny-model.ts is absent.');

describe.skipIf(!existsSync(TINY_MODEL_FIXTURE))(
  'profiles and embeddings over the tiny local model (mechanics only)',
  { timeout: 180_000 },
  async () => {
    const { useTinyModel } = await import('../fixtures/tiny-model.ts');
    const tinyModel = useTinyModel();

    it('builds profiles with the LLM contradiction check answered by a real local model', async () => {
      const { createLlamaCppBackend } = await import('../../src/llm/llama/create-llama-cpp-backend.ts');
      const local = await createLlamaCppBackend({
        modelPath: tinyModel.path,
        threads: 1,
        contextSize: 4096,
        parallelSequences: 1,
      });
      try {
        const seeds = await loadSeedAttributes(SEEDS_FILE);
        const result = await buildConsistentProfiles(
          {
            attributes: seeds,
            count: 2,
            attributesPerProfile: 3,
            redundancyThreshold: 0.9,
            maxAttemptsPerProfile: 6,
            minAttributes: 1,
            concurrency: 1,
          },
          {
            random: createRandom(1),
            embedder: new LexicalEmbedder(),
            checkContradiction: createLlmContradictionCheck(local, { ...checkOptions, maxOutputTokens: 200 }),
          },
        );
        // Random weights: the verdicts are arbitrary but schema-valid, so the loop completes.
        expect(result.profiles.length + result.incomplete).toBe(2);
        expect(result.checks).toBeGreaterThan(0);
      } finally {
        await local.dispose();
      }
    });

    it('LlamaCppEmbedder returns one fixed-length vector per text, the same for the same text', async () => {
      const { LlamaCppEmbedder } = await import('../../src/llm/llama/llama-cpp-embedder.ts');
      const embedder = new LlamaCppEmbedder({ modelPath: tinyModel.path, threads: 1 });
      try {
        const vectors = await embedder.embed(['I have a dog.', 'I work as a nurse.', 'I have a dog.']);
        expect(vectors).toHaveLength(3);
        expect(vectors[0].length).toBeGreaterThan(0);
        expect(vectors[1]).toHaveLength(vectors[0].length);
        expect(vectors[2]).toEqual(vectors[0]);
        expect(embedder.kind).toBe('llama.cpp:tiny.gguf');
      } finally {
        await embedder.dispose();
        await embedder.dispose();
      }
    });
  },
);
