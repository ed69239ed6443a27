import { describe, expect, it } from 'vitest';
import { pairRandomly } from '../../src/personas/pair-randomly.ts';
import { createRandom } from '../../src/util/create-random.ts';
import type { Profile } from '../../src/schemas/index.ts';

const makeProfiles = (count: number): Profile[] =>
  Array.from({ length: count }, (_, index) => ({
    id: `p-${String(index + 1).padStart(4, '0')}`,
    attributes: [`I am person number ${index + 1}.`],
  }));

describe('pairRandomly', () => {
  it('numbers pairs and never pairs a profile with itself', () => {
    for (const profileCount of [2, 3, 5, 8]) {
      for (let seed = 0; seed < 30; seed++) {
        const pairs = pairRandomly(makeProfiles(profileCount), 25, createRandom(seed));
        expect(pairs).toHaveLength(25);
        expect(pairs[0].id).toBe('pair-0001');
        expect(pairs[24].id).toBe('pair-0025');
        for (const pair of pairs) expect(pair.user1.id).not.toBe(pair.user2.id);
      }
    }
  });

  it('is deterministic for a seed', () => {
    const profiles = makeProfiles(10);
    expect(pairRandomly(profiles, 12, createRandom(9))).toEqual(pairRandomly(profiles, 12, createRandom(9)));
    expect(pairRandomly(profiles, 12, createRandom(9))).not.toEqual(pairRandomly(profiles, 12, createRandom(10)));
  });

  it('uses each profile at most once while pairs fit, and evenly beyond', () => {
    const profiles = makeProfiles(7);
    const few = pairRandomly(profiles, 3, createRandom(4));
    const fewIds = few.flatMap((pair) => [pair.user1.id, pair.user2.id]);
    expect(new Set(fewIds).size).toBe(6);

    const many = pairRandomly(profiles, 20, createRandom(4));
    const uses = new Map<string, number>();
    for (const pair of many) {
      for (const id of [pair.user1.id, pair.user2.id]) uses.set(id, (uses.get(id) ?? 0) + 1);
    }
    expect(uses.size).toBe(7);
    const counts = [...uses.values()];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('returns no pairs for count 0 and refuses to pair fewer than two profiles', () => {
    expect(pairRandomly([], 0, createRandom(1))).toEqual([]);
    expect(() => pairRandomly(makeProfiles(1), 1, createRandom(1))).toThrow(
      'Expected at least 2 profiles to pair, got 1.',
    );
  });
});
