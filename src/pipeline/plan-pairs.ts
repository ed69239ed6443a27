import type { LlmBackend } from '../llm/llm-backend.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { Pair } from '../schemas/pair.ts';
import type { Attribute } from '../schemas/attribute.ts';
import { InputError } from '../errors.ts';
import { createEmbedder } from '../llm/embedders/create-embedder.ts';
import { preparePairs } from '../personas/prepare-pairs.ts';
import { loadSeedAttributes, defaultSeedPaths } from '../personas/load-seed-attributes.ts';
import { buildSimpleProfiles } from '../personas/build-simple-profiles.ts';
import { pairRandomly } from '../personas/pair-randomly.ts';
import {
  createBatchedContradictionCheck,
  DEFAULT_CONTRADICTION_BATCH,
} from '../personas/create-batched-contradiction-check.ts';
import { deriveRandom } from '../util/create-random.ts';
import { batchPlanningProfilesAtOnce } from '../llm/batch/apply-batch-mode.ts';
import { seedFor } from './seed-for.ts';
import { simpleProfileCount } from './profiles-planned-for.ts';

export interface PairBatch {
  pairs: Pair[];
  /** Profile-construction rejections by reason. */
  rejections: Record<string, number>;
}

export interface PlanPairsRequest {
  count: number;
  /** Pairs the run planned before this batch (seed-pairs mode continues after them). @defaultValue 0 */
  offset?: number;
  /** Names the random streams, so every batch of a run is different and reproducible. */
  label: string;
  /** Prepended to pair ids so batches never collide (e.g. `i2w1-`). */
  idPrefix: string;
}

export interface PlanPairsDeps {
  backend: LlmBackend;
  signal?: AbortSignal;
  /** Called as profiles are finished: how many are, of how many this batch builds (none in seed-pairs mode). */
  onProfiles?: (done: number, total: number) => void;
}

/**
 * Builds `count` pairs from the seed attributes: consistent simple profiles, paired at random.
 * Deterministic for (config.seed, label) given the same contradiction-check answers.
 */
export async function planPairs(config: RunConfig, request: PlanPairsRequest, deps: PlanPairsDeps): Promise<PairBatch> {
  const attributes = await loadSeedAttributes(config.seeds.attributes ?? defaultSeedPaths().attributes);
  if (config.personas.mode !== 'simple') return preparePersonaPairs(config, request, attributes, deps);
  // Candidates rejected because the check's reply stayed unusable or its call could not fit the
  // model's context (counted, never fatal).
  let unusableChecks = 0;
  let overContextChecks = 0;
  const checkOptions = {
    temperature: config.llm.critic_temperature,
    maxOutputTokens: config.llm.critic_max_output_tokens,
    seed: seedFor(config.seed, `profiles/${request.label}`),
    onUnusableReply: () => void unusableChecks++,
    onOverContext: () => void overContextChecks++,
  };
  const checksPerCall = config.profiles.contradiction_batch ?? DEFAULT_CONTRADICTION_BATCH;
  // Batches are also fitted to the backend's context, down to one check per call.
  const checkContradiction = !config.profiles.contradiction_check
    ? undefined
    : createBatchedContradictionCheck(deps.backend, { ...checkOptions, maxBatch: checksPerCall });
  const { profiles, rejections } = await buildSimpleProfiles(
    {
      attributes,
      // Two profiles per pair, so each profile talks about once per run where the seed set allows.
      count: simpleProfileCount(request.count),
      attributesPerProfile: config.profiles.attributes_per_profile,
      nearDuplicateThreshold: config.profiles.near_duplicate_threshold,
      maxContradictionChecks: config.profiles.max_contradiction_checks,
      // Profiles built at once ask their checks together: a batch fills up to `contradiction_batch`.
      concurrency: config.llm.batch ? batchPlanningProfilesAtOnce(config) : Math.max(4, checksPerCall),
      // --batch: the profiles' checks in rounds, one Batch API batch per round.
      inRounds: config.llm.batch === true,
    },
    {
      random: deriveRandom(config.seed, `profiles/${request.label}`),
      checkContradiction,
      signal: deps.signal,
      onProgress: deps.onProfiles,
    },
  );
  const pairs = pairRandomly(profiles, request.count, deriveRandom(config.seed, `pairs/${request.label}`));
  return {
    pairs: pairs.map((pair) => prefixPair(pair, request.idPrefix)),
    rejections: {
      ...rejections,
      ...(unusableChecks > 0 && { unusable_contradiction_check: unusableChecks }),
      ...(overContextChecks > 0 && { contradiction_check_over_context: overContextChecks }),
    },
  };
}

const prefixPair = (pair: Pair, prefix: string): Pair =>
  prefix
    ? {
        id: `${prefix}${pair.id}`,
        user1: { ...pair.user1, id: `${prefix}${pair.user1.id}` },
        user2: { ...pair.user2, id: `${prefix}${pair.user2.id}` },
      }
    : pair;

/** The paper's stage 1+2 (`synthesize`) or a seed dataset's own pairs (`seed-pairs`). */
async function preparePersonaPairs(
  config: RunConfig,
  request: PlanPairsRequest,
  attributes: Attribute[],
  deps: PlanPairsDeps,
): Promise<PairBatch> {
  const offset = config.personas.mode === 'seed-pairs' ? (request.offset ?? 0) : 0;
  const embedder = await createEmbedder(config.personas.embedder, {
    baseUrl: config.llm.base_url,
    apiKey: config.llm.api_key,
    threads: config.llm.threads,
  });
  try {
    const prepared = await preparePairs(
      {
        ...config.personas,
        mode: config.personas.mode === 'seed-pairs' ? 'seed-pairs' : 'synthesize',
        consistency_check: config.profiles.contradiction_check,
        ...(config.profiles.contradiction_batch !== undefined && {
          contradiction_batch: config.profiles.contradiction_batch,
        }),
        count: offset + request.count,
        attributes_per_profile: config.profiles.attributes_per_profile,
        critic_temperature: config.llm.critic_temperature,
        critic_max_output_tokens: config.llm.critic_max_output_tokens,
        seed: seedFor(config.seed, `personas/${request.label}`),
        all_profiles_at_once: config.llm.batch === true && batchPlanningProfilesAtOnce(config) === undefined,
      },
      {
        backend: deps.backend,
        onProgress: (progress) => {
          if (progress.phase === 'profiles') deps.onProfiles?.(progress.done, progress.total);
        },
        random: deriveRandom(config.seed, `personas/${request.label}`),
        embedder,
        seedAttributes: attributes,
      },
    );
    const pairs = prepared.pairs.slice(offset, offset + request.count);
    if (pairs.length === 0) {
      throw new InputError(
        `the seed dataset has no pairs left (it has ${prepared.pairs.length}; this run needs more than ${offset}); lower --pairs/--target or use a bigger source`,
        config.personas.source,
      );
    }
    return {
      pairs: pairs.map((pair) => prefixPair(pair, request.idPrefix)),
      rejections: { ...prepared.report.rejections },
    };
  } finally {
    await embedder.dispose();
  }
}
