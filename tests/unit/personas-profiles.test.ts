import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/llm/embedders/embedder.ts';
import type { LlmBackend } from '../../src/llm/llm-backend.ts';
import { LexicalEmbedder } from '../../src/llm/embedders/lexical-embedder.ts';
import { buildConsistentProfiles } from '../../src/personas/build-consistent-profiles.ts';
import { preparePairs } from '../../src/personas/prepare-pairs.ts';
import type { Attribute } from '../../src/schemas/attribute.ts';
import { PersonasConfigSchema } from '../../src/schemas/personas-config.ts';
import { createRandom } from '../../src/util/create-random.ts';

const attribute = (id: string, text: string, cluster?: string): Attribute => ({
  id,
  text,
  category: 'test',
  ...(cluster && { cluster }),
});
const POOL: Attribute[] = [
  'I have two dogs.',
  'I work as a nurse.',
  'I play the violin.',
  'I live in a small town.',
  'I collect vintage stamps.',
  'I am learning to cook.',
  'I run marathons.',
  'My favorite color is green.',
  'I grew up on a farm.',
  'I drink too much coffee.',
  'I have three sisters.',
  'I hate cold weather.',
].map((text, index) => attribute(`a${index}`, text));

const noLlm: LlmBackend = {
  kind: 'none',
  modelFor: () => 'none',
  complete: async () => {
    throw new Error('no LLM in this test');
  },
  dispose: async () => {},
};

describe('PersonasConfigSchema', () => {
  it('documents its defaults', () => {
    expect(PersonasConfigSchema.parse({})).toEqual({
      mode: 'synthesize',
      strict: false,
      embedder: { kind: 'lexical', batch_size: 64 },
      cluster_threshold: 0.8,
      redundancy_threshold: 0.9,
      pair_similarity_min: 2,
      max_profile_reuse: 2,
      consistency_check: true,
      negation_check: false,
      max_attempts_per_profile: 60,
    });
  });
});

describe('buildConsistentProfiles', () => {
  it('fills profiles with distinct attributes, deterministically for a seed and any concurrency', async () => {
    const run = (seed: number, concurrency: number) =>
      buildConsistentProfiles(
        { attributes: POOL, count: 6, attributesPerProfile: 5, redundancyThreshold: 0.9, concurrency },
        { random: createRandom(seed), embedder: new LexicalEmbedder() },
      );
    const first = await run(5, 1);
    expect(first.profiles).toHaveLength(6);
    expect(first.profiles.map((profile) => profile.id)).toEqual([
      'p-0001',
      'p-0002',
      'p-0003',
      'p-0004',
      'p-0005',
      'p-0006',
    ]);
    for (const profile of first.profiles) {
      expect(profile.attributes).toHaveLength(5);
      expect(new Set(profile.attributes).size).toBe(5);
    }
    expect((await run(5, 4)).profiles).toEqual(first.profiles);
    expect((await run(6, 1)).profiles).not.toEqual(first.profiles);
  });

  it('rejects redundant candidates (cosine above the threshold)', async () => {
    const pool = [
      attribute('a', 'I have two dogs.'),
      attribute('b', 'I have two dogs!'),
      attribute('c', 'I play the violin.'),
    ];
    const result = await buildConsistentProfiles(
      { attributes: pool, count: 5, attributesPerProfile: 3, redundancyThreshold: 0.9, minAttributes: 2 },
      { random: createRandom(1), embedder: new LexicalEmbedder() },
    );
    for (const profile of result.profiles) {
      expect(profile.attributes.filter((text) => text.startsWith('I have two dogs'))).toHaveLength(1);
      expect(profile.attributes).toHaveLength(2);
    }
    expect(result.rejections.redundant).toBe(5);
  });

  it('asks the contradiction check in both directions and counts each', async () => {
    const asked: string[] = [];
    // A one-directional checker: only "profile holds the vegetarian line, candidate is the steak line".
    const checkContradiction = async (profile: string[], candidate: string) => {
      asked.push(`${profile.join(' | ')} => ${candidate}`);
      return profile.some((text) => text.includes('vegetarian')) && candidate.includes('steak');
    };
    const pool = [attribute('v', 'I am a vegetarian.'), attribute('s', 'I eat steak every day.')];
    const results = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      results.push(
        await buildConsistentProfiles(
          { attributes: pool, count: 1, attributesPerProfile: 2, redundancyThreshold: 0.9, minAttributes: 1 },
          { random: createRandom(seed), embedder: new LexicalEmbedder(), checkContradiction },
        ),
      );
    }
    for (const result of results) expect(result.profiles[0].attributes).toHaveLength(1);
    const forward = results.reduce((sum, result) => sum + result.rejections.contradiction, 0);
    const backward = results.reduce((sum, result) => sum + result.rejections.contradiction_backward, 0);
    expect(forward).toBeGreaterThan(0);
    expect(backward).toBeGreaterThan(0);
    expect(forward + backward).toBe(6);
    expect(asked).toContain('I eat steak every day. => I am a vegetarian.');
  });

  it('drops profiles it cannot fill within the attempt limit and counts them', async () => {
    const result = await buildConsistentProfiles(
      { attributes: POOL, count: 2, attributesPerProfile: 5, redundancyThreshold: 0.9, maxAttemptsPerProfile: 8 },
      { random: createRandom(1), embedder: new LexicalEmbedder(), checkContradiction: async () => true },
    );
    expect(result.profiles).toEqual([]);
    expect(result.incomplete).toBe(2);
    // Each profile: the first attribute is free, the next 7 candidates are rejected (one check each).
    expect(result.rejections.contradiction).toBe(14);
    expect(result.checks).toBe(14);
  });

  it('refuses a pool too small for one profile', async () => {
    await expect(
      buildConsistentProfiles(
        { attributes: POOL.slice(0, 3), count: 1, attributesPerProfile: 5, redundancyThreshold: 0.9 },
        { random: createRandom(1), embedder: new LexicalEmbedder() },
      ),
    ).rejects.toThrow(
      'Cannot build profiles of 4+ attributes from 3 distinct attributes; add attributes or lower attributesPerProfile.',
    );
  });
});

describe('preparePairs', () => {
  const countingEmbedder = (): Embedder & { calls: number } => {
    const inner = new LexicalEmbedder();
    const wrapper = {
      kind: 'lexical',
      calls: 0,
      embed: async (texts: readonly string[]) => {
        wrapper.calls++;
        return inner.embed(texts);
      },
      dispose: async () => {},
    };
    return wrapper;
  };

  it('seed-pairs mode returns the first pairs of the source and its conversations for the pool', async () => {
    const source = join(import.meta.dirname, '..', 'fixtures', 'personas', 'conversations.jsonl');
    const result = await preparePairs(
      { ...PersonasConfigSchema.parse({ mode: 'seed-pairs', source }), count: 2 },
      { backend: noLlm, random: createRandom(1), embedder: new LexicalEmbedder(), seedAttributes: [] },
    );
    expect(result.pairs.map((pair) => pair.id)).toEqual(['seed-a', 'row-7']);
    expect(result.seedConversations).toHaveLength(3);
    expect(result.seedConversations[0].source).toBe('seed');
    expect(result.report).toMatchObject({ mode: 'seed-pairs', pairs: 2, cluster_pairs: 0, random_pairs: 0, notes: [] });
  });

  it('seed-pairs mode without a source is a config error', async () => {
    await expect(
      preparePairs(
        { ...PersonasConfigSchema.parse({ mode: 'seed-pairs' }), count: 2 },
        { backend: noLlm, random: createRandom(1), embedder: new LexicalEmbedder(), seedAttributes: [] },
      ),
    ).rejects.toThrow('personas.source: required when personas.mode is "seed-pairs"');
  });

  it('synthesize mode pairs by the given clusters, embeds once, and is deterministic for a seed', async () => {
    // Two clusters only, so most profile pairs share more than two same-cluster attribute pairs.
    const clustered = POOL.map((item, index) => ({ ...item, cluster: index % 2 === 0 ? 'even' : 'odd' }));
    const run = async (seed: number) => {
      const embedder = countingEmbedder();
      const result = await preparePairs(
        {
          ...PersonasConfigSchema.parse({ consistency_check: false, profile_pool: 8 }),
          count: 4,
          attributes_per_profile: 4,
        },
        { backend: noLlm, random: createRandom(seed), embedder, seedAttributes: clustered },
      );
      return { result, calls: embedder.calls };
    };
    const { result, calls } = await run(3);
    expect(calls).toBe(1);
    expect(result.pairs).toHaveLength(4);
    expect(result.report.cluster_pairs).toBe(4);
    expect(result.report.random_pairs).toBe(0);
    expect(result.report.coverage.clusters_available).toBe(2);
    expect(Object.keys(result.report.coverage.similarity).every((similarity) => Number(similarity) > 2)).toBe(true);
    expect((await run(3)).result.pairs).toEqual(result.pairs);
  });

  it('synthesize mode clusters unclustered attributes and falls back to random pairs with a note', async () => {
    const result = await preparePairs(
      {
        ...PersonasConfigSchema.parse({ consistency_check: false, profile_pool: 6 }),
        count: 3,
        attributes_per_profile: 3,
      },
      { backend: noLlm, random: createRandom(1), embedder: new LexicalEmbedder(), seedAttributes: POOL },
    );
    expect(result.pairs).toHaveLength(3);
    expect(result.report.random_pairs).toBe(3 - result.report.cluster_pairs);
    expect(result.report.notes[0]).toMatch(/^clustered 12 attributes into \d+ clusters \(lexical, threshold 0.8\)$/);
    expect(result.report.notes.some((note) => note.includes('random pairs added'))).toBe(true);
  });
});
