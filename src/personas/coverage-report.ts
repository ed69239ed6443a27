import type { Pair } from '../schemas/pair.ts';
import type { Profile } from '../schemas/profile.ts';
import type { PersonasReport } from '../schemas/persona-expansion.ts';

export interface CoverageInput {
  pairs: readonly Pair[];
  /** Every profile that was available for pairing (paired or not). */
  profiles: readonly Profile[];
  /** Attribute texts that were available. */
  attributes: readonly string[];
  clusterOf: ReadonlyMap<string, string>;
  /** Similarity of each pair (same order as `pairs`). */
  similarities: readonly number[];
}

/**
 * How well the pairs cover what was available: distinct attributes and clusters that appear in a
 * paired profile, and histograms of pairs per profile and of pair similarity.
 */
export function buildCoverageReport(input: CoverageInput): PersonasReport['coverage'] {
  const pairsPerProfile = new Map<string, number>(input.profiles.map((profile) => [profile.id, 0]));
  const usedAttributes = new Set<string>();
  for (const pair of input.pairs) {
    for (const profile of [pair.user1, pair.user2]) {
      pairsPerProfile.set(profile.id, (pairsPerProfile.get(profile.id) ?? 0) + 1);
      profile.attributes.forEach((attribute) => usedAttributes.add(attribute));
    }
  }
  const available = new Set(input.attributes);
  const clustersAvailable = new Set(
    [...available].map((text) => input.clusterOf.get(text)).filter((cluster) => cluster !== undefined),
  );
  const clustersUsed = new Set(
    [...usedAttributes].map((text) => input.clusterOf.get(text)).filter((cluster) => cluster !== undefined),
  );
  return {
    attributes_used: [...usedAttributes].filter((text) => available.has(text)).length,
    attributes_available: available.size,
    clusters_used: clustersUsed.size,
    clusters_available: clustersAvailable.size,
    pairs_per_profile: histogram([...pairsPerProfile.values()]),
    similarity: histogram(input.similarities),
  };
}

function histogram(values: readonly number[]): Record<string, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return Object.fromEntries(
    [...counts].sort((left, right) => left[0] - right[0]).map(([value, count]) => [String(value), count]),
  );
}
