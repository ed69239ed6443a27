import type { Embedder } from '../llm/embedders/embedder.ts';
import { CachingEmbedder } from '../llm/embedders/caching-embedder.ts';
import { ConfigError } from '../errors.ts';
import type { LlmBackend } from '../llm/llm-backend.ts';
import type { Attribute } from '../schemas/attribute.ts';
import type { PoolRecord } from '../schemas/conversation.ts';
import type { Pair } from '../schemas/pair.ts';
import type { PersonasReport } from '../schemas/persona-expansion.ts';
import type { PersonasConfig } from '../schemas/personas-config.ts';
import type { Profile } from '../schemas/profile.ts';
import type { Random } from '../util/create-random.ts';
import { buildConsistentProfiles, type ProfileCheck } from './build-consistent-profiles.ts';
import { buildCoverageReport } from './coverage-report.ts';
import { createBatchedContradictionCheck, DEFAULT_CONTRADICTION_BATCH } from './create-batched-contradiction-check.ts';
import { createLlmNegationCheck } from './create-llm-negation-check.ts';
import { clusterAgglomerative } from './expansion/cluster-agglomerative.ts';
import { fileStem } from './importers/build-seed-record.ts';
import { importDatasetWithNotes } from './importers/import-dataset.ts';
import { formatImportSummary } from './importers/format-import-summary.ts';
import { pairByClusters } from './pair-by-clusters.ts';

/** `RunConfig.personas` plus what the run decides around it. */
export interface PreparePairsInput extends PersonasConfig {
  /** Pairs wanted (e.g. pairs per iteration × iterations). */
  count: number;
  /** Attributes per synthesized profile (`RunConfig.profiles.attributes_per_profile`). @defaultValue 5 */
  attributes_per_profile?: number;
  /** Critic settings for the consistency checks (`llm.critic_temperature`, `llm.critic_max_output_tokens`). */
  critic_temperature?: number;
  critic_max_output_tokens?: number;
  /** Sampling seed sent with the check requests. */
  seed?: number;
  /**
   * Most contradiction checks asked in one call (`profiles.contradiction_batch`); profiles are built
   * at least this many at a time so their checks go out together. @defaultValue 8
   */
  contradiction_batch?: number;
  /**
   * Build every profile of the pool at once (batch mode, `--batch`: the checks of each step of
   * all profiles go out together, as one Batch API batch) instead of 4 at a time. @defaultValue false
   */
  all_profiles_at_once?: boolean;
}

export interface PreparePairsDeps {
  backend: LlmBackend;
  random: Random;
  embedder: Embedder;
  /** The attribute pool for `synthesize` (seed or expanded attributes; with `cluster` when expanded). */
  seedAttributes: readonly Attribute[];
  /** Replaces the LLM contradiction check (tests, other checkers). */
  checkContradiction?: ProfileCheck;
  onProgress?: (progress: { phase: 'import' | 'embed' | 'profiles' | 'pairing'; done: number; total: number }) => void;
}

export interface PreparedPairs {
  pairs: Pair[];
  report: PersonasReport;
  /** Conversations of `source` (pool records, `source: "seed"`) to seed the few-shot pool; empty without `source`. */
  seedConversations: PoolRecord[];
  /** Profiles available for pairing (synthesize) or the seed pairs' profiles (seed-pairs). */
  profiles: Profile[];
}

/**
 * Stage 1 + 2 for a run. `seed-pairs`: import `source` and return its first `count` pairs (SPC
 * part 1). `synthesize`: build consistent profiles from the attributes (plus the personas of
 * `source`, if any), pair them by cluster overlap, and fall back to random pairs (with a note)
 * when too few clear `pair_similarity_min` (SPC part 2). Attributes without clusters are clustered
 * here (agglomerative, `cluster_threshold`).
 */
export async function preparePairs(config: PreparePairsInput, deps: PreparePairsDeps): Promise<PreparedPairs> {
  if (!Number.isInteger(config.count) || config.count < 1) {
    throw new RangeError(`Expected \`count\` to be a positive integer, got ${config.count}.`);
  }
  const notes: string[] = [];
  const source = config.source ? await importSource(config.source, config.strict, notes, deps) : undefined;
  const imported = source?.dataset;

  if (config.mode === 'seed-pairs') {
    if (!imported) {
      throw new ConfigError('Invalid personas configuration', [
        'personas.source: required when personas.mode is "seed-pairs" (a Persona-Chat, SPC CSV or JSONL file)',
      ]);
    }
    const pairs = imported.pairs.slice(0, config.count);
    if (pairs.length < config.count)
      notes.push(`the seed dataset has ${imported.pairs.length} pairs; ${config.count} were wanted`);
    const profiles = pairs.flatMap((pair) => [pair.user1, pair.user2]);
    return {
      pairs,
      seedConversations: imported.conversations,
      profiles,
      report: {
        mode: 'seed-pairs',
        pairs: pairs.length,
        cluster_pairs: 0,
        random_pairs: 0,
        profiles: profiles.length,
        rejections: {},
        coverage: buildCoverageReport({
          pairs,
          profiles,
          attributes: profiles.flatMap((profile) => profile.attributes),
          clusterOf: new Map(),
          similarities: pairs.map(() => 0),
        }),
        notes,
        ...(source && { import: source.summary }),
      },
    };
  }

  // --- synthesize ---
  const embedder = new CachingEmbedder(deps.embedder);
  const attributes = mergeAttributes(
    deps.seedAttributes,
    imported ? importedAttributes(imported.path, imported.pairs) : [],
  );
  const clusterOf = await clustersFor(attributes, config.cluster_threshold, embedder, notes, deps);
  const poolSize = synthesizePoolSize(config.count, config.profile_pool);
  const attributesPerProfile = config.attributes_per_profile ?? 5;
  const checkOptions = {
    temperature: config.critic_temperature ?? 0,
    maxOutputTokens: config.critic_max_output_tokens ?? 400,
    seed: config.seed ?? 0,
  };
  const checksPerCall = config.contradiction_batch ?? DEFAULT_CONTRADICTION_BATCH;
  // Candidates rejected because a check's reply stayed unusable or could not fit the model's
  // context (counted, never fatal).
  const unusable = { unusable_contradiction_check: 0, contradiction_check_over_context: 0 };
  const checkContradiction = config.consistency_check
    ? (deps.checkContradiction ??
      createBatchedContradictionCheck(deps.backend, {
        ...checkOptions,
        maxBatch: checksPerCall,
        onUnusableReply: () => void unusable.unusable_contradiction_check++,
        onOverContext: () => void unusable.contradiction_check_over_context++,
      }))
    : undefined;
  const checkNegation = config.negation_check ? createLlmNegationCheck(deps.backend, checkOptions) : undefined;
  const built = await buildConsistentProfiles(
    {
      attributes,
      count: poolSize,
      attributesPerProfile,
      redundancyThreshold: config.redundancy_threshold,
      maxAttemptsPerProfile: config.max_attempts_per_profile,
      concurrency: config.all_profiles_at_once ? poolSize : Math.max(4, checksPerCall),
    },
    {
      random: deps.random,
      embedder,
      checkContradiction,
      checkNegation,
      onProgress: (done, total) => deps.onProgress?.({ phase: 'profiles', done, total }),
    },
  );
  if (built.incomplete > 0) {
    notes.push(
      `${built.incomplete} of ${poolSize} profiles could not be filled within ${config.max_attempts_per_profile} attempts and were dropped`,
    );
  }
  const paired = pairByClusters(
    {
      profiles: built.profiles,
      clusterOf,
      count: config.count,
      minSimilarity: config.pair_similarity_min,
      maxReuse: config.max_profile_reuse,
    },
    deps.random,
  );
  deps.onProgress?.({ phase: 'pairing', done: paired.pairs.length, total: config.count });
  notes.push(...paired.notes);
  return {
    pairs: paired.pairs,
    seedConversations: imported?.conversations ?? [],
    profiles: built.profiles,
    report: {
      mode: 'synthesize',
      pairs: paired.pairs.length,
      cluster_pairs: paired.clusterPairs,
      random_pairs: paired.randomPairs,
      profiles: built.profiles.length,
      rejections: {
        ...built.rejections,
        incomplete_profiles: built.incomplete,
        ...Object.fromEntries(Object.entries(unusable).filter(([, count]) => count > 0)),
      },
      coverage: buildCoverageReport({
        pairs: paired.pairs,
        profiles: built.profiles,
        attributes: attributes.map((attribute) => attribute.text),
        clusterOf,
        similarities: paired.similarities,
      }),
      notes,
      ...(source && { import: source.summary }),
    },
  };
}

async function importSource(source: string, strict: boolean, notes: string[], deps: PreparePairsDeps) {
  deps.onProgress?.({ phase: 'import', done: 0, total: 1 });
  const imported = await importDatasetWithNotes(source, { strict });
  const { summary } = imported;
  if (summary.skipped > 0 || summary.repaired > 0 || summary.duplicates > 0) notes.push(formatImportSummary(summary));
  deps.onProgress?.({ phase: 'import', done: 1, total: 1 });
  return imported;
}

/** The personas of imported pairs as attributes (`<file stem>-a<n>`, category `imported`). */
function importedAttributes(path: string, pairs: readonly Pair[]): Attribute[] {
  const stem = fileStem(path);
  const texts = pairs.flatMap((pair) => [...pair.user1.attributes, ...pair.user2.attributes]);
  return texts.map((text, index) => ({ id: `${stem}-a${index + 1}`, text, category: 'imported' }));
}

/** Seed attributes first, then imported ones whose text is new. */
function mergeAttributes(seeds: readonly Attribute[], extra: readonly Attribute[]): Attribute[] {
  const seen = new Set<string>();
  return [...seeds, ...extra].filter((attribute) => {
    const key = attribute.text.trim();
    if (key.length < 3 || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Attribute text -> cluster: the given clusters when every attribute has one, else clustered here. */
async function clustersFor(
  attributes: readonly Attribute[],
  threshold: number,
  embedder: Embedder,
  notes: string[],
  deps: PreparePairsDeps,
): Promise<Map<string, string>> {
  if (attributes.length > 0 && attributes.every((attribute) => attribute.cluster !== undefined)) {
    return new Map(attributes.map((attribute) => [attribute.text, attribute.cluster!]));
  }
  deps.onProgress?.({ phase: 'embed', done: 0, total: attributes.length });
  const vectors = await embedder.embed(attributes.map((attribute) => attribute.text));
  deps.onProgress?.({ phase: 'embed', done: attributes.length, total: attributes.length });
  const { labels, clusterCount } = clusterAgglomerative(vectors, threshold);
  notes.push(
    `clustered ${attributes.length} attributes into ${clusterCount} clusters (${embedder.kind}, threshold ${threshold})`,
  );
  return new Map(
    attributes.map((attribute, index) => [attribute.text, `c${String(labels[index] + 1).padStart(4, '0')}`]),
  );
}

/** Profiles `synthesize` builds to choose `pairs` pairs from: `profile_pool`, else max(20, 4 per pair). */
export function synthesizePoolSize(pairs: number, profilePool?: number): number {
  return profilePool ?? Math.max(20, pairs * 4);
}
