import type { LlmBackend } from '../llm/llm-backend.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { Pair } from '../schemas/pair.ts';
import { loadSeedAttributes, defaultSeedPaths } from '../personas/load-seed-attributes.ts';
import { buildSimpleProfiles } from '../personas/build-simple-profiles.ts';
import { pairRandomly } from '../personas/pair-randomly.ts';
import { createLlmContradictionCheck } from '../personas/create-llm-contradiction-check.ts';
import { deriveRandom } from '../util/create-random.ts';
import { seedFor } from './seed-for.ts';

export interface PairBatch {
  pairs: Pair[];
  /** Profile-construction rejections by reason. */
  rejections: Record<string, number>;
}

export interface PlanPairsRequest {
  count: number;
  /** Names the random streams, so every batch of a run is different and reproducible. */
  label: string;
  /** Prepended to pair ids so batches never collide (e.g. `i2w1-`). */
  idPrefix: string;
}

/**
 * Builds `count` pairs from the seed attributes: consistent simple profiles, paired at random.
 * Deterministic for (config.seed, label) given the same contradiction-check answers.
 */
export async function planPairs(config: RunConfig, request: PlanPairsRequest, deps: { backend: LlmBackend }): Promise<PairBatch> {
  const attributes = await loadSeedAttributes(config.seeds.attributes ?? defaultSeedPaths().attributes);
  const checkContradiction = config.profiles.contradiction_check
    ? createLlmContradictionCheck(deps.backend, {
        temperature: config.llm.critic_temperature,
        maxOutputTokens: config.llm.critic_max_output_tokens,
        seed: seedFor(config.seed, `profiles/${request.label}`),
      })
    : undefined;
  const { profiles, rejections } = await buildSimpleProfiles(
    {
      attributes,
      // Two profiles per pair, so each profile talks about once per run where the seed set allows.
      count: Math.max(2, request.count * 2),
      attributesPerProfile: config.profiles.attributes_per_profile,
      nearDuplicateThreshold: config.profiles.near_duplicate_threshold,
    },
    { random: deriveRandom(config.seed, `profiles/${request.label}`), checkContradiction },
  );
  const pairs = pairRandomly(profiles, request.count, deriveRandom(config.seed, `pairs/${request.label}`));
  const prefixed = (id: string) => `${request.idPrefix}${id}`;
  return {
    pairs: pairs.map((pair) => ({
      id: prefixed(pair.id),
      user1: { ...pair.user1, id: prefixed(pair.user1.id) },
      user2: { ...pair.user2, id: prefixed(pair.user2.id) },
    })),
    rejections: { ...rejections },
  };
}
