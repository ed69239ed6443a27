import type { LlmBackend } from '../llm/llm-backend.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PlannedPair } from '../schemas/outcome-line.ts';
import { loadSeedAttributes, defaultSeedPaths } from '../personas/load-seed-attributes.ts';
import { buildSimpleProfiles } from '../personas/build-simple-profiles.ts';
import { pairRandomly } from '../personas/pair-randomly.ts';
import { createLlmContradictionCheck } from '../personas/create-llm-contradiction-check.ts';
import { deriveRandom } from '../util/create-random.ts';
import { seedFor } from './seed-for.ts';

export interface PairPlan {
  pairs: PlannedPair[];
  /** Profile-construction rejections by reason. */
  rejections: Record<string, number>;
}

/**
 * Fixes every pair of the run up front (fresh pairs for each iteration), so a resumed run and
 * every worker see exactly the same pairs. Profiles come from the seed attributes.
 */
export async function planPairs(config: RunConfig, deps: { backend: LlmBackend }): Promise<PairPlan> {
  const attributes = await loadSeedAttributes(config.seeds.attributes ?? defaultSeedPaths().attributes);
  const total = config.pairs * config.iterations;
  const checkContradiction = config.profiles.contradiction_check
    ? createLlmContradictionCheck(deps.backend, {
        temperature: config.llm.critic_temperature,
        maxOutputTokens: config.llm.critic_max_output_tokens,
        seed: seedFor(config.seed, 'profiles'),
      })
    : undefined;
  const { profiles, rejections } = await buildSimpleProfiles(
    {
      attributes,
      // Two profiles per pair, so each profile talks about once per run where the seed set allows.
      count: Math.max(2, total * 2),
      attributesPerProfile: config.profiles.attributes_per_profile,
      nearDuplicateThreshold: config.profiles.near_duplicate_threshold,
    },
    { random: deriveRandom(config.seed, 'profiles'), checkContradiction },
  );
  const pairs = pairRandomly(profiles, total, deriveRandom(config.seed, 'pairs'));
  return {
    pairs: pairs.map((pair, index) => ({ iteration: Math.floor(index / config.pairs) + 1, pair })),
    rejections: { ...rejections },
  };
}
