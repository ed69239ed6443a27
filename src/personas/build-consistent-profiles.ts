import type { Embedder } from '../llm/embedders/embedder.ts';
import type { Attribute } from '../schemas/attribute.ts';
import type { Profile } from '../schemas/profile.ts';
import { createRandom, randomInt, type Random } from '../util/create-random.ts';
import { cosineOf } from './expansion/vector-index.ts';

/** True when `candidate` contradicts `profile` (e.g. `createLlmContradictionCheck`). */
export type ProfileCheck = (profile: string[], candidate: string) => Promise<boolean>;

export interface BuildConsistentProfilesInput {
  /** The attribute pool (seed or expanded attributes). Texts should be unique; repeats are ignored. */
  attributes: readonly Attribute[];
  /** Profiles wanted. */
  count: number;
  /** Attributes per profile, 1..10 (paper: 5). */
  attributesPerProfile: number;
  /** A candidate is redundant when its cosine similarity to a held attribute is above this (paper: 0.9). */
  redundancyThreshold: number;
  /** Candidates drawn per profile before giving up on filling it. @defaultValue 60 */
  maxAttemptsPerProfile?: number;
  /** A profile that could not be filled is kept when it holds at least this many. @defaultValue attributesPerProfile − 1 (min 1) */
  minAttributes?: number;
  /** Profiles built at once (only matters with an LLM check). @defaultValue 4 */
  concurrency?: number;
}

export interface BuildConsistentProfilesDeps {
  random: Random;
  embedder: Embedder;
  /**
   * The LLM contradiction check. Asked in both directions: (held, candidate), then
   * ([candidate], the held attributes as one text). Omit to switch consistency checking off.
   */
  checkContradiction?: ProfileCheck;
  /** The paper's negation step (`createLlmNegationCheck`), asked after the contradiction check passes. */
  checkNegation?: ProfileCheck;
  /** Called after each finished profile. */
  onProgress?: (done: number, total: number) => void;
}

/** Candidate attributes drawn and rejected, by the first rule that rejected them. */
export interface ConsistentProfileRejections {
  /** Cosine similarity to a held attribute above the redundancy threshold. */
  redundant: number;
  /** The contradiction check said yes in the forward direction (held vs candidate). */
  contradiction: number;
  /** ... or only in the backward direction (candidate vs held). */
  contradiction_backward: number;
  /** The negation step found an entailed negation. */
  negation: number;
}

export interface BuildConsistentProfilesResult {
  /** `p-0001`, `p-0002`, … (ids of dropped profiles are skipped, never reused). */
  profiles: Profile[];
  rejections: ConsistentProfileRejections;
  /** Profiles dropped because fewer than `minAttributes` fitted within the attempt limit. */
  incomplete: number;
  /** LLM checks asked. */
  checks: number;
}

/**
 * Stage 1.3 of the method: builds profiles by adding random attributes one at a time until each
 * holds `attributesPerProfile`, rejecting a candidate that is redundant (embedding cosine above
 * `redundancyThreshold` to a held attribute) or inconsistent (the LLM contradiction check in both
 * directions, then the optional negation step). Cheap checks first; the LLM is asked only once the
 * profile holds an attribute.
 *
 * Deterministic for a seed: each profile draws from its own stream derived from `deps.random` up
 * front, so results do not depend on `concurrency` (given deterministic checks).
 */
export async function buildConsistentProfiles(
  input: BuildConsistentProfilesInput,
  deps: BuildConsistentProfilesDeps,
): Promise<BuildConsistentProfilesResult> {
  const { count, attributesPerProfile, redundancyThreshold } = input;
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`Expected \`count\` to be a non-negative integer, got ${count}.`);
  if (!Number.isInteger(attributesPerProfile) || attributesPerProfile < 1 || attributesPerProfile > 10) {
    throw new RangeError(
      `Expected \`attributesPerProfile\` to be an integer from 1 to 10, got ${attributesPerProfile}.`,
    );
  }
  if (!(redundancyThreshold >= 0 && redundancyThreshold <= 1)) {
    throw new RangeError(
      `Expected \`redundancyThreshold\` to be a number between 0 and 1, got ${redundancyThreshold}.`,
    );
  }
  const maxAttempts = input.maxAttemptsPerProfile ?? 60;
  const minAttributes = input.minAttributes ?? Math.max(1, attributesPerProfile - 1);
  const concurrency = Math.max(1, input.concurrency ?? 4);

  const seen = new Set<string>();
  const pool = input.attributes.filter((attribute) => !seen.has(attribute.text) && seen.add(attribute.text));
  if (pool.length < minAttributes) {
    throw new RangeError(
      `Cannot build profiles of ${minAttributes}+ attributes from ${pool.length} distinct attributes; add attributes or lower attributesPerProfile.`,
    );
  }
  const vectors = await deps.embedder.embed(pool.map((attribute) => attribute.text));
  const rejections: ConsistentProfileRejections = {
    redundant: 0,
    contradiction: 0,
    contradiction_backward: 0,
    negation: 0,
  };
  const profileRandoms = Array.from({ length: count }, () => createRandom(randomInt(deps.random, 2 ** 32)));
  const built: (Profile | undefined)[] = new Array(count);
  let checks = 0;
  let finished = 0;

  const buildOne = async (index: number): Promise<void> => {
    const random = profileRandoms[index];
    const remaining = pool.map((_, position) => position);
    const held: number[] = [];
    let attempts = 0;
    while (held.length < attributesPerProfile && attempts < maxAttempts && remaining.length > 0) {
      attempts++;
      // Lazy Fisher–Yates: a random remaining attribute, never drawn twice for this profile.
      const pick = randomInt(random, remaining.length);
      [remaining[pick], remaining[remaining.length - 1]] = [remaining[remaining.length - 1], remaining[pick]];
      const candidate = remaining.pop()!;
      if (held.some((position) => cosineOf(vectors[position], vectors[candidate]) > redundancyThreshold)) {
        rejections.redundant++;
        continue;
      }
      if (held.length > 0) {
        const heldTexts = held.map((position) => pool[position].text);
        const candidateText = pool[candidate].text;
        if (deps.checkContradiction) {
          checks++;
          if (await deps.checkContradiction(heldTexts, candidateText)) {
            rejections.contradiction++;
            continue;
          }
          checks++;
          if (await deps.checkContradiction([candidateText], heldTexts.join(' '))) {
            rejections.contradiction_backward++;
            continue;
          }
        }
        if (deps.checkNegation) {
          checks++;
          if (await deps.checkNegation(heldTexts, candidateText)) {
            rejections.negation++;
            continue;
          }
        }
      }
      held.push(candidate);
    }
    if (held.length >= minAttributes) {
      built[index] = {
        id: `p-${String(index + 1).padStart(4, '0')}`,
        attributes: held.map((position) => pool[position].text),
      };
    }
    deps.onProgress?.(++finished, count);
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await buildOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const profiles = built.filter((profile): profile is Profile => profile !== undefined);
  return { profiles, rejections, incomplete: count - profiles.length, checks };
}
