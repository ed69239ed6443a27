import { describe, expect, it } from 'vitest';
import { buildCoverageReport } from '../../src/personas/coverage-report.ts';
import { pairByClusters, profileSimilarity } from '../../src/personas/pair-by-clusters.ts';
import type { Profile } from '../../src/schemas/profile.ts';
import { PairSchema } from '../../src/schemas/pair.ts';
import { createRandom } from '../../src/util/create-random.ts';

// Attribute text "<cluster>-<n>" belongs to cluster <cluster>.
const clusterOf = new Map<string, string>();
function profile(id: string, attributes: string[]): Profile {
  for (const text of attributes) clusterOf.set(text, text.split('-')[0]);
  return { id, attributes };
}

// Profiles a, b, c share three clusters (similarity 3 pairwise); d and e share nothing with anyone.
const profiles = [
  profile('a', ['pets-1', 'jobs-1', 'food-1', 'music-1']),
  profile('b', ['pets-2', 'jobs-2', 'food-2', 'cars-1']),
  profile('c', ['pets-3', 'jobs-3', 'food-3', 'tv-1']),
  profile('d', ['art-1', 'books-1', 'games-1', 'home-1']),
  profile('e', ['sports-1', 'travel-1', 'money-1', 'dreams-1']),
];

describe('profileSimilarity', () => {
  it('counts cross pairs of attributes in the same cluster', () => {
    expect(profileSimilarity(profiles[0].attributes, profiles[1].attributes, clusterOf)).toBe(3);
    clusterOf.set('pets-4', 'pets');
    expect(profileSimilarity(['pets-1', 'pets-2'], ['pets-3', 'pets-4', 'jobs-1'], clusterOf)).toBe(4);
    expect(profileSimilarity(profiles[0].attributes, profiles[3].attributes, clusterOf)).toBe(0);
    expect(profileSimilarity(['unclustered'], ['unclustered'], clusterOf)).toBe(0);
  });
});

describe('pairByClusters', () => {
  it('pairs only profiles with similarity > the threshold when enough do', () => {
    const result = pairByClusters({ profiles, clusterOf, count: 3, minSimilarity: 2, maxReuse: 2 }, createRandom(1));
    expect(result.pairs).toHaveLength(3);
    expect(result.clusterPairs).toBe(3);
    expect(result.randomPairs).toBe(0);
    expect(result.similarities).toEqual([3, 3, 3]);
    expect(result.notes).toEqual([]);
    const ids = result.pairs.map((pair) => [pair.user1.id, pair.user2.id].sort().join('+')).sort();
    expect(ids).toEqual(['a+b', 'a+c', 'b+c']);
    expect(result.pairs.map((pair) => pair.id)).toEqual(['pair-0001', 'pair-0002', 'pair-0003']);
    for (const pair of result.pairs) PairSchema.parse(pair);
  });

  it('respects the reuse limit and fills the rest at random with a note', () => {
    const result = pairByClusters({ profiles, clusterOf, count: 3, minSimilarity: 2, maxReuse: 1 }, createRandom(1));
    expect(result.clusterPairs).toBe(1);
    expect(result.randomPairs).toBe(1);
    expect(result.pairs).toHaveLength(2);
    const uses = new Map<string, number>();
    for (const pair of result.pairs)
      for (const user of [pair.user1, pair.user2]) uses.set(user.id, (uses.get(user.id) ?? 0) + 1);
    expect(Math.max(...uses.values())).toBe(1);
    expect(result.notes).toEqual([
      'only 1 of 3 pairs have cluster similarity > 2 (3 eligible among 5 profiles); 1 random pairs added. ' +
        'Build more profiles (personas.profile_pool), expand the attributes, or lower personas.pair_similarity_min.',
      'only 2 of 3 pairs could be formed from 5 profiles with max_profile_reuse 1; build more profiles or raise personas.max_profile_reuse.',
    ]);
  });

  it('is deterministic for a seed and varies with it', () => {
    const run = (seed: number) =>
      pairByClusters({ profiles, clusterOf, count: 5, minSimilarity: 0, maxReuse: 3 }, createRandom(seed)).pairs.map(
        (pair) => `${pair.user1.id}>${pair.user2.id}`,
      );
    expect(run(7)).toEqual(run(7));
    const seeds = Array.from({ length: 6 }, (_, seed) => run(seed).join(' '));
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });

  it('never pairs a profile with itself or repeats a pair', () => {
    const result = pairByClusters({ profiles, clusterOf, count: 10, minSimilarity: 2, maxReuse: 4 }, createRandom(3));
    expect(result.pairs).toHaveLength(10);
    const keys = result.pairs.map((pair) => [pair.user1.id, pair.user2.id].sort().join('+'));
    expect(new Set(keys).size).toBe(10);
    for (const pair of result.pairs) expect(pair.user1.id).not.toBe(pair.user2.id);
  });
});

describe('buildCoverageReport', () => {
  it('reports attributes and clusters used and histograms', () => {
    const { pairs, similarities } = pairByClusters(
      { profiles, clusterOf, count: 2, minSimilarity: 2, maxReuse: 2 },
      createRandom(1),
    );
    const coverage = buildCoverageReport({
      pairs,
      profiles,
      attributes: profiles.flatMap((item) => item.attributes),
      clusterOf,
      similarities,
    });
    expect(coverage.attributes_available).toBe(20);
    expect(coverage.attributes_used).toBe(12);
    expect(coverage.clusters_available).toBe(14);
    expect(coverage.clusters_used).toBe(6);
    expect(coverage.pairs_per_profile).toEqual({ '0': 2, '1': 2, '2': 1 });
    expect(coverage.similarity).toEqual({ '3': 2 });
  });
});
