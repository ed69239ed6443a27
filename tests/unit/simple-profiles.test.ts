import { describe, expect, it } from 'vitest';
import { buildSimpleProfiles } from '../../src/personas/build-simple-profiles.ts';
import { isNearDuplicate } from '../../src/personas/is-near-duplicate.ts';
import { defaultSeedPaths, loadSeedAttributes } from '../../src/personas/load-seed-attributes.ts';
import { createRandom } from '../../src/util/create-random.ts';
import type { Attribute } from '../../src/schemas/index.ts';

const attributes = await loadSeedAttributes(defaultSeedPaths().attributes);
const baseInput = { attributes, count: 40, attributesPerProfile: 5, nearDuplicateThreshold: 0.6 };

describe('isNearDuplicate', () => {
  it('flags sentences with the same content words, ignoring case, punctuation, stopwords and plurals', () => {
    expect(isNearDuplicate('I love dogs.', 'i really love my DOG!', 0.6)).toBe(true);
    expect(isNearDuplicate('I have two puppies.', 'I have two puppy', 0.6)).toBe(true);
    expect(isNearDuplicate('I have two cats.', 'I work as a nurse.', 0.6)).toBe(false);
  });

  it('compares token Jaccard similarity against the threshold', () => {
    // {have, two, dog} vs {have, three, dog}: 2 shared of 4 = 0.5
    expect(isNearDuplicate('I have two dogs.', 'I have three dogs.', 0.5)).toBe(true);
    expect(isNearDuplicate('I have two dogs.', 'I have three dogs.', 0.6)).toBe(false);
    expect(isNearDuplicate('I have two dogs.', 'I have two dogs.', 1)).toBe(true);
  });

  it('keeps negations as content', () => {
    // {drink, coffee} vs {never, drink, coffee}: 2/3
    expect(isNearDuplicate('I drink coffee.', 'I never drink coffee.', 0.7)).toBe(false);
  });

  it('rejects a threshold outside 0..1', () => {
    expect(() => isNearDuplicate('a', 'b', 1.5)).toThrow(
      'Expected `threshold` to be a number between 0 and 1, got 1.5.',
    );
  });
});

describe('buildSimpleProfiles', () => {
  it('builds profiles of N distinct attributes with no near-duplicates and one per category', async () => {
    const { profiles } = await buildSimpleProfiles(baseInput, { random: createRandom(7) });
    expect(profiles.map((profile) => profile.id).slice(0, 3)).toEqual(['p-0001', 'p-0002', 'p-0003']);
    expect(profiles).toHaveLength(40);
    const categoryOf = new Map(attributes.map((attribute) => [attribute.text, attribute.category]));
    for (const profile of profiles) {
      expect(profile.attributes).toHaveLength(5);
      expect(new Set(profile.attributes).size).toBe(5);
      expect(new Set(profile.attributes.map((text) => categoryOf.get(text))).size).toBe(5);
      for (let i = 0; i < 5; i++) {
        for (let j = i + 1; j < 5; j++) {
          expect(isNearDuplicate(profile.attributes[i], profile.attributes[j], 0.6)).toBe(false);
        }
      }
    }
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const first = await buildSimpleProfiles(baseInput, { random: createRandom(42) });
    const again = await buildSimpleProfiles({ ...baseInput, concurrency: 1 }, { random: createRandom(42) });
    const other = await buildSimpleProfiles(baseInput, { random: createRandom(43) });
    expect(again).toEqual(first);
    expect(other.profiles).not.toEqual(first.profiles);
  });

  it('rejects near-duplicates and counts them', async () => {
    const small: Attribute[] = [
      { id: 'a', category: 'pets', text: 'I have two dogs.' },
      { id: 'b', category: 'animals', text: 'I have two dogs!' },
      { id: 'c', category: 'jobs', text: 'I work as a nurse.' },
    ];
    const { profiles, rejections } = await buildSimpleProfiles(
      { attributes: small, count: 10, attributesPerProfile: 2, nearDuplicateThreshold: 0.6 },
      { random: createRandom(1) },
    );
    for (const profile of profiles) {
      expect(profile.attributes).toContain('I work as a nurse.');
    }
    expect(rejections.near_duplicate).toBeGreaterThan(0);
    expect(rejections.contradiction).toBe(0);
  });

  it('rejects a second attribute of a category unless the rule is off', async () => {
    const small: Attribute[] = [
      { id: 'a', category: 'jobs', text: 'I am a nurse.' },
      { id: 'b', category: 'jobs', text: 'I drive a taxi.' },
      { id: 'c', category: 'pets', text: 'I have a parrot.' },
    ];
    const input = { attributes: small, count: 10, attributesPerProfile: 2, nearDuplicateThreshold: 0.6 };
    const strict = await buildSimpleProfiles(input, { random: createRandom(3) });
    for (const profile of strict.profiles) expect(profile.attributes).toContain('I have a parrot.');
    expect(strict.rejections.same_category).toBeGreaterThan(0);

    const relaxed = await buildSimpleProfiles({ ...input, distinctCategories: false }, { random: createRandom(3) });
    expect(relaxed.rejections.same_category).toBe(0);
    expect(relaxed.profiles.some((profile) => !profile.attributes.includes('I have a parrot.'))).toBe(true);
  });

  it('removes an attribute the contradiction check rejects and counts it', async () => {
    const planted = 'I have never spoken to another human being.';
    const withPlanted: Attribute[] = [...attributes, { id: 'planted-001', category: 'planted', text: planted }];
    const calls: { profile: string[]; candidate: string }[] = [];
    const { profiles, rejections } = await buildSimpleProfiles(
      { ...baseInput, attributes: withPlanted, count: 200 },
      {
        random: createRandom(11),
        checkContradiction: async (profile, candidate) => {
          calls.push({ profile, candidate });
          return candidate === planted;
        },
      },
    );
    expect(profiles.flatMap((profile) => profile.attributes)).not.toContain(planted);
    const plantedCalls = calls.filter((call) => call.candidate === planted);
    expect(plantedCalls.length).toBeGreaterThan(0);
    expect(rejections.contradiction).toBe(plantedCalls.length);
    // Asked only once a profile holds something, with the attributes held so far.
    for (const call of calls) {
      expect(call.profile.length).toBeGreaterThanOrEqual(1);
      expect(call.profile.length).toBeLessThan(5);
    }
  });

  it('gives up with a clear error when the attributes run out', async () => {
    const small: Attribute[] = [
      { id: 'a', category: 'jobs', text: 'I am a nurse.' },
      { id: 'b', category: 'pets', text: 'I have a parrot.' },
      { id: 'c', category: 'food', text: 'I love spicy noodles.' },
    ];
    const input = { attributes: small, count: 2, attributesPerProfile: 3, nearDuplicateThreshold: 0.6 };
    await expect(
      buildSimpleProfiles(input, { random: createRandom(5), checkContradiction: async () => true }),
    ).rejects.toThrow(/Cannot build profile p-0001: only 1 of 3 attributes fit after trying all 3/);
    await expect(
      buildSimpleProfiles({ ...input, attributesPerProfile: 4 }, { random: createRandom(5) }),
    ).rejects.toThrow('Cannot build profiles of 4 attributes from only 3 attributes.');
    await expect(
      buildSimpleProfiles(
        {
          ...input,
          attributes: [...small, { id: 'd', category: 'food', text: 'I bake bread.' }],
          attributesPerProfile: 4,
        },
        { random: createRandom(5) },
      ),
    ).rejects.toThrow('the attributes have only 3 categories');
  });

  it('validates its numbers', async () => {
    await expect(
      buildSimpleProfiles({ ...baseInput, attributesPerProfile: 0 }, { random: createRandom(1) }),
    ).rejects.toThrow('Expected `attributesPerProfile` to be an integer from 1 to 10, got 0.');
  });
});
