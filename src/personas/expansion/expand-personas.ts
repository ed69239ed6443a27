import { writeFile } from 'node:fs/promises';
import type { Embedder } from '../../llm/embedders/embedder.ts';
import type { CompletionUsage, LlmBackend } from '../../llm/llm-backend.ts';
import { InputError } from '../../errors.ts';
import type { Attribute } from '../../schemas/attribute.ts';
import type { ExpansionStats } from '../../schemas/persona-expansion.ts';
import type { ImportSummary } from '../../schemas/import-summary.ts';
import { bootstrapExpansionPersonas } from './bootstrap-expansion-personas.ts';
import { bootstrapExpansionQueries } from './bootstrap-expansion-queries.ts';
import { clusterAgglomerative } from './cluster-agglomerative.ts';
import { computeAttributeSetStats } from './compute-attribute-set-stats.ts';
import { expansionPaths } from './expansion-files.ts';
import type { ExpansionProgress, ExpansionSettings, ExpansionStepContext } from './expansion-step-context.ts';
import { induceClusterQueries } from './induce-cluster-queries.ts';
import { readExpansionResumeLog } from './read-expansion-resume-log.ts';

export type { ExpansionProgress } from './expansion-step-context.ts';

export interface ExpandPersonasInput {
  /** Seed attributes (unique ids). Their `cluster`/`query` fields are recomputed. */
  seeds: readonly Attribute[];
  /** Attributes wanted in the output, seeds included (paper: 4,723 -> 10,371). */
  target: number;
  /** Output JSONL of attributes with cluster and query; `<out>.queries.jsonl` and `<out>.stats.json` go beside it. */
  out: string;
  /** Seed of every random choice (samples shown, questions picked). */
  seed: number;
  /** Average-linkage cosine distance below which seed clusters merge. @defaultValue 0.8 */
  clusterThreshold?: number;
  /** A new attribute or question is a near-duplicate above this cosine similarity. @defaultValue 0.9 */
  nearDuplicateThreshold?: number;
  /** Query bootstrapping steps (paper: 100). @defaultValue 20 */
  queryBootstrapSteps?: number;
  /** New questions asked for per bootstrapping step. @defaultValue 5 */
  questionsPerStep?: number;
  /** Attributes shown per cluster in query induction (paper: 3). @defaultValue 3 */
  samplesPerCluster?: number;
  /** Known questions / example attributes shown per bootstrapping prompt (paper: 5). @defaultValue 5 */
  examplesPerPrompt?: number;
  /** Persona bootstrapping attempts before giving up short of `target`. @defaultValue 4 × missing + 20 */
  maxAttempts?: number;
  /** LLM requests in flight at once; also the batch size, so output is reproducible for a seed and concurrency. @defaultValue 4 */
  concurrency?: number;
  /** Sampling temperature of the bootstrapping calls. @defaultValue 0.9 */
  temperature?: number;
  /** Maximum output tokens per reply. @defaultValue 300 */
  maxOutputTokens?: number;
  /** What reading the seeds file imported, repaired and skipped; copied into `<out>.stats.json`. */
  importSummary?: ImportSummary;
}

export interface ExpandPersonasDeps {
  backend: LlmBackend;
  embedder: Embedder;
  onProgress?: (progress: ExpansionProgress) => void;
  /** Aborting stops between batches; everything made so far is on disk and a rerun continues. */
  signal?: AbortSignal;
}

export interface ExpandPersonasResult {
  /** Every attribute of the output file, in file order. */
  attributes: Attribute[];
  /** Every question (cluster) known: induced ones first. */
  queries: { cluster: string; query: string; source: 'induced' | 'bootstrapped' }[];
  stats: ExpansionStats;
  statsPath: string;
  /** True when the output already held work that was continued. */
  resumed: boolean;
  usage: CompletionUsage;
}

/**
 * Persona expansion (METHOD.md Stage 1.2): clusters the seed attributes (average linkage, cosine),
 * asks the LLM for the question each cluster answers (query induction), asks for new questions
 * from 5 known ones (query bootstrapping), then for new attributes answering a question in the style
 * of 5 random attributes (persona bootstrapping), dropping near-duplicates (cosine > 0.9).
 *
 * Everything is appended to `out` (attributes) and `<out>.queries.jsonl` as it is made; running
 * again with the same seeds and settings continues where it stopped. The Table 1 statistics are
 * returned and written to `<out>.stats.json`.
 */
export async function expandPersonas(
  input: ExpandPersonasInput,
  deps: ExpandPersonasDeps,
): Promise<ExpandPersonasResult> {
  const settings: ExpansionSettings = {
    clusterThreshold: input.clusterThreshold ?? 0.8,
    nearDuplicateThreshold: input.nearDuplicateThreshold ?? 0.9,
    queryBootstrapSteps: input.queryBootstrapSteps ?? 20,
    questionsPerStep: input.questionsPerStep ?? 5,
    samplesPerCluster: input.samplesPerCluster ?? 3,
    examplesPerPrompt: input.examplesPerPrompt ?? 5,
    concurrency: Math.max(1, input.concurrency ?? 4),
    temperature: input.temperature ?? 0.9,
    maxOutputTokens: input.maxOutputTokens ?? 300,
  };
  if (input.seeds.length === 0) throw new InputError('no seed attributes to expand');
  const paths = expansionPaths(input.out);
  const usage: CompletionUsage = { promptTokens: 0, completionTokens: 0, calls: 0 };
  const rejected = { near_duplicate: 0, malformed: 0, duplicate_query: 0, invalid_reply: 0 };
  const report = (progress: ExpansionProgress) => deps.onProgress?.(progress);
  const aborted = () => deps.signal?.aborted === true;
  const context: ExpansionStepContext = {
    seed: input.seed,
    settings,
    backend: deps.backend,
    embedder: deps.embedder,
    paths,
    usage,
    rejected,
    report,
    aborted,
  };

  const { writtenAttributes, queryLog, resumed } = await readExpansionResumeLog(paths);
  const writtenIds = new Set(writtenAttributes.map((attribute) => attribute.id));

  // --- Cluster the seeds (deterministic, so a rerun finds the same clusters) ---
  report({ phase: 'cluster', done: 0, total: input.seeds.length, attributes: writtenAttributes.length });
  const seedVectors = await deps.embedder.embed(input.seeds.map((attribute) => attribute.text));
  const { labels, clusterCount } = clusterAgglomerative(seedVectors, settings.clusterThreshold);
  const clusterIdOf = (label: number) => `c${String(label + 1).padStart(4, '0')}`;
  const membersByCluster = new Map<string, Attribute[]>();
  input.seeds.forEach((attribute, index) => {
    const cluster = clusterIdOf(labels[index]);
    membersByCluster.set(cluster, [...(membersByCluster.get(cluster) ?? []), attribute]);
  });
  report({
    phase: 'cluster',
    done: input.seeds.length,
    total: input.seeds.length,
    attributes: writtenAttributes.length,
  });
  const clusters = [...membersByCluster.keys()];

  const { queryOf, categoryOf } = await induceClusterQueries(context, {
    membersByCluster,
    clusterCount,
    queryLog,
    writtenIds,
    writtenAttributeCount: writtenAttributes.length,
  });

  const bootstrapped = await bootstrapExpansionQueries(context, {
    queryLog,
    clusters,
    queryOf,
    attributeCount: writtenIds.size,
  });
  for (const entry of bootstrapped) {
    queryOf.set(entry.cluster, entry.query);
    categoryOf.set(entry.cluster, 'expanded');
  }

  const { attributes, vectorOf, seedsComplete } = await bootstrapExpansionPersonas(context, {
    seeds: input.seeds,
    seedVectors,
    target: input.target,
    maxAttempts: input.maxAttempts,
    clusters,
    queryOf,
    categoryOf,
  });

  // --- Statistics (Table 1) ---
  const seedIds = new Set(input.seeds.map((attribute) => attribute.id));
  const seedAttributes = attributes.filter((attribute) => seedIds.has(attribute.id));
  const stats: ExpansionStats = {
    seed: computeAttributeSetStats(
      seedAttributes,
      seedAttributes.map((attribute) => vectorOf.get(attribute.id)!),
    ),
    expanded: computeAttributeSetStats(
      attributes,
      attributes.map((attribute) => vectorOf.get(attribute.id)!),
    ),
    queries: { induced: queryOf.size - bootstrapped.length, bootstrapped: bootstrapped.length },
    rejected,
    embedder: deps.embedder.kind,
    cluster_threshold: settings.clusterThreshold,
    complete: attributes.length >= input.target && seedsComplete,
    target: input.target,
    ...(input.importSummary && { import: input.importSummary }),
  };
  await writeFile(paths.stats, `${JSON.stringify(stats, null, 2)}\n`, 'utf8');
  report({ phase: 'done', done: attributes.length, total: input.target, attributes: attributes.length });
  return {
    attributes,
    queries: [
      ...clusters
        .filter((cluster) => queryOf.has(cluster))
        .map((cluster) => ({ cluster, query: queryOf.get(cluster)!, source: 'induced' as const })),
      ...bootstrapped.map((entry) => ({ ...entry, source: 'bootstrapped' as const })),
    ],
    stats,
    statsPath: paths.stats,
    resumed,
    usage,
  };
}
