import type { Attribute } from '../schemas/attribute.ts';
import type { Profile } from '../schemas/profile.ts';
import { createRandom, randomInt, type Random } from '../util/create-random.ts';
import { isNearDuplicate } from './is-near-duplicate.ts';
import { CheckRounds } from './check-rounds.ts';

export interface BuildSimpleProfilesInput {
  /** The attribute pool to draw from (seed attributes, possibly expanded). */
  attributes: readonly Attribute[];
  /** Profiles to build. */
  count: number;
  /** Attributes per profile, 1..10 (paper: 5). Config `profiles.attributes_per_profile`. */
  attributesPerProfile: number;
  /** Token-Jaccard threshold of `isNearDuplicate`, 0..1. Config `profiles.near_duplicate_threshold`. */
  nearDuplicateThreshold: number;
  /**
   * Reject a candidate whose category is already in the profile, so a profile never holds two
   * attributes about the same topic (two jobs, two home towns). Needs at least
   * `attributesPerProfile` categories. @defaultValue true
   */
  distinctCategories?: boolean;
  /** Profiles built at once; only matters when `checkContradiction` is slow (an LLM). @defaultValue 4 */
  concurrency?: number;
  /**
   * Contradiction checks allowed per profile; more means the critic model rejects nearly
   * everything, which is reported instead of trying every attribute. @defaultValue 30
   */
  maxContradictionChecks?: number;
  /**
   * Build the profiles in groups of `concurrency` (default: all of them in one group) and ask each
   * group's contradiction checks in rounds, one check per unfinished profile per round, handed on
   * in profile order (`CheckRounds`): batch mode (`--batch`), where each round is one Batch API
   * batch. Same profiles as without it (each draws from its own stream). @defaultValue false
   */
  inRounds?: boolean;
}

export interface BuildSimpleProfilesDeps {
  random: Random;
  /** True when `candidate` contradicts an attribute of `profile` or vice versa (e.g. an LLM check). */
  checkContradiction?: (profile: string[], candidate: string) => Promise<boolean>;
  /** Aborts profile building (e.g. Ctrl-C during planning). */
  signal?: AbortSignal;
  /** Called as each profile is finished: how many are, of `count` (planning's progress line). */
  onProgress?: (done: number, total: number) => void;
}

/** Candidates drawn and rejected, by the first rule that rejected them. */
export interface ProfileRejections {
  near_duplicate: number;
  contradiction: number;
  same_category: number;
}

export interface BuildSimpleProfilesResult {
  /** `p-0001`, `p-0002`, … in order. */
  profiles: Profile[];
  rejections: ProfileRejections;
}

/**
 * Builds profiles the way the paper does: draw random attributes one by one (without replacement)
 * and add each unless it is a near-duplicate of one already in the profile, shares its category
 * with one already in (when `distinctCategories`), or `checkContradiction` says it contradicts the
 * profile. The checks run in that order, cheapest first; the contradiction check is asked only for
 * candidates that passed the others and only once the profile holds an attribute.
 *
 * Deterministic for a seed: each profile draws from its own stream, derived from `deps.random` up
 * front, so the result does not depend on `concurrency` or on how long checks take.
 * @throws Error when the attribute set is too small to fill a profile.
 */
export async function buildSimpleProfiles(
  input: BuildSimpleProfilesInput,
  deps: BuildSimpleProfilesDeps,
): Promise<BuildSimpleProfilesResult> {
  const { attributes, count, attributesPerProfile, nearDuplicateThreshold } = input;
  const distinctCategories = input.distinctCategories ?? true;
  const concurrency = input.concurrency ?? (input.inRounds ? Math.max(1, count) : 4);
  const maxChecks = input.maxContradictionChecks ?? 30;
  validateInput(input, concurrency);
  checkEnoughAttributes(attributes, attributesPerProfile, distinctCategories);

  const rejections: ProfileRejections = { near_duplicate: 0, contradiction: 0, same_category: 0 };
  const profileRandoms = Array.from({ length: count }, () => createRandom(randomInt(deps.random, 2 ** 32)));
  const profiles: Profile[] = new Array(count);
  // In rounds: one CheckRounds per group of `concurrency` profiles, participants numbered within it.
  const groupRounds = new Map<number, CheckRounds>();
  const roundsOf = (index: number): CheckRounds | undefined => {
    if (!input.inRounds || !deps.checkContradiction) return undefined;
    const group = Math.floor(index / concurrency);
    let rounds = groupRounds.get(group);
    if (!rounds) {
      rounds = new CheckRounds(deps.checkContradiction, Math.min(concurrency, count - group * concurrency));
      groupRounds.set(group, rounds);
    }
    return rounds;
  };
  const checkContradiction =
    deps.checkContradiction &&
    ((index: number, profile: string[], candidate: string) =>
      roundsOf(index)?.ask(index % concurrency, profile, candidate) ?? deps.checkContradiction!(profile, candidate));

  const buildOne = async (index: number): Promise<void> => {
    const id = `p-${String(index + 1).padStart(4, '0')}`;
    const random = profileRandoms[index];
    const remaining = attributes.slice();
    const held: Attribute[] = [];
    let checks = 0;
    while (held.length < attributesPerProfile) {
      // Another profile failed the build: stop asking (in rounds, every profile is still building).
      if (failed) return;
      if (remaining.length === 0) {
        throw new Error(
          `Cannot build profile ${id}: only ${held.length} of ${attributesPerProfile} attributes fit after trying all ` +
            `${attributes.length} (rejected so far in this run: ${rejections.near_duplicate} near-duplicates, ` +
            `${rejections.same_category} same-category, ${rejections.contradiction} contradictions). ` +
            'Add more attributes (or categories) to the seed file, lower `profiles.attributes_per_profile`, ' +
            'or raise `profiles.near_duplicate_threshold`.',
        );
      }
      // Lazy Fisher–Yates: swap a random remaining attribute to the end and take it.
      const pick = randomInt(random, remaining.length);
      [remaining[pick], remaining[remaining.length - 1]] = [remaining[remaining.length - 1], remaining[pick]];
      const candidate = remaining.pop() as Attribute;

      if (held.some((attribute) => isNearDuplicate(attribute.text, candidate.text, nearDuplicateThreshold))) {
        rejections.near_duplicate++;
        continue;
      }
      if (distinctCategories && held.some((attribute) => attribute.category === candidate.category)) {
        rejections.same_category++;
        continue;
      }
      deps.signal?.throwIfAborted();
      if (checkContradiction && held.length > 0 && ++checks > maxChecks) {
        throw new Error(
          `Cannot build profile ${id}: the contradiction check was asked ${maxChecks} times for it ` +
            `(\`profiles.max_contradiction_checks\`) and rejected ${rejections.contradiction} candidates in this run so far. ` +
            'The critic model is probably not following the contradiction-check prompt: use a stronger critic model ' +
            '(--critic-model) or set `profiles.contradiction_check: false`.',
        );
      }
      if (
        checkContradiction &&
        held.length > 0 &&
        (await checkContradiction(
          index,
          held.map((attribute) => attribute.text),
          candidate.text,
        ))
      ) {
        rejections.contradiction++;
        continue;
      }
      held.push(candidate);
    }
    profiles[index] = { id, attributes: held.map((attribute) => attribute.text) };
    deps.onProgress?.(++finished, count);
  };
  let finished = 0;

  let failed = false;
  const buildGuarded = async (index: number): Promise<void> => {
    try {
      await buildOne(index);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      roundsOf(index)?.leave(index % concurrency);
    }
  };
  if (input.inRounds) {
    for (let start = 0; start < count && !failed; start += concurrency) {
      const group = Array.from({ length: Math.min(concurrency, count - start) }, (_, offset) => start + offset);
      await Promise.all(group.map(buildGuarded));
    }
    return { profiles, rejections };
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) await buildGuarded(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { profiles, rejections };
}

function validateInput(input: BuildSimpleProfilesInput, concurrency: number): void {
  if (!Number.isInteger(input.count) || input.count < 0) {
    throw new RangeError(`Expected \`count\` to be a non-negative integer, got ${input.count}.`);
  }
  if (
    !Number.isInteger(input.attributesPerProfile) ||
    input.attributesPerProfile < 1 ||
    input.attributesPerProfile > 10
  ) {
    throw new RangeError(
      `Expected \`attributesPerProfile\` to be an integer from 1 to 10, got ${input.attributesPerProfile}.`,
    );
  }
  if (!(input.nearDuplicateThreshold >= 0 && input.nearDuplicateThreshold <= 1)) {
    throw new RangeError(
      `Expected \`nearDuplicateThreshold\` to be a number between 0 and 1, got ${input.nearDuplicateThreshold}.`,
    );
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Expected \`concurrency\` to be a positive integer, got ${concurrency}.`);
  }
}

function checkEnoughAttributes(
  attributes: readonly Attribute[],
  attributesPerProfile: number,
  distinctCategories: boolean,
): void {
  if (attributes.length < attributesPerProfile) {
    throw new Error(
      `Cannot build profiles of ${attributesPerProfile} attributes from only ${attributes.length} attributes. ` +
        'Add more attributes to the seed file or lower `profiles.attributes_per_profile`.',
    );
  }
  const categories = new Set(attributes.map((attribute) => attribute.category)).size;
  if (distinctCategories && categories < attributesPerProfile) {
    throw new Error(
      `Cannot build profiles of ${attributesPerProfile} attributes with one attribute per category: the attributes ` +
        `have only ${categories} categories. Add attributes in more categories or lower \`profiles.attributes_per_profile\`.`,
    );
  }
}
