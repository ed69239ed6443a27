import { writeFile } from 'node:fs/promises';
import type { Embedder } from '../../llm/embedder.ts';
import type { CompletionUsage, LlmBackend } from '../../llm/llm-backend.ts';
import { completeStructured } from '../../llm/complete-structured.ts';
import { InputError, StructuredOutputError } from '../../llm/errors.ts';
import { AttributeSchema, type Attribute } from '../../schemas/attribute.ts';
import {
  ExpansionQueryRecordSchema,
  PersonaBootstrapReplySchema,
  QueryBootstrapReplySchema,
  QueryInductionReplySchema,
  type ExpansionQueryRecord,
  type ExpansionStats,
} from '../../schemas/persona-expansion.ts';
import { deriveRandom, sampleWithoutReplacement } from '../../util/create-random.ts';
import { clusterAgglomerative } from './cluster-agglomerative.ts';
import { computeAttributeSetStats } from './compute-attribute-set-stats.ts';
import { appendJsonl, expansionPaths, readJsonlIfExists } from './expansion-files.ts';
import {
  buildPersonaBootstrapMessages,
  buildQueryBootstrapMessages,
  buildQueryInductionMessages,
  normalizeBootstrappedAttribute,
  normalizeQuestion,
} from './expansion-prompts.ts';
import { VectorIndex } from './vector-index.ts';

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
}

export interface ExpansionProgress {
  phase: 'cluster' | 'induce-queries' | 'bootstrap-queries' | 'bootstrap-personas' | 'done';
  /** Units done / planned in this phase (clusters, steps, attributes). */
  done: number;
  total: number;
  /** Attributes in the output so far. */
  attributes: number;
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

const HOW_TO_FIX =
  'The file is an interrupted expansion output; delete it (and its .queries.jsonl) or choose another --out.';

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
  const settings = {
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

  // --- What an earlier run left ---
  const writtenAttributes = (await readJsonlIfExists(paths.attributes, AttributeSchema, HOW_TO_FIX)) ?? [];
  const queryLog = (await readJsonlIfExists(paths.queries, ExpansionQueryRecordSchema, HOW_TO_FIX)) ?? [];
  if (writtenAttributes.length > 0 && queryLog.length === 0) {
    throw new InputError(
      `already exists and is not an expansion in progress (no ${paths.queries}). ${HOW_TO_FIX}`,
      paths.attributes,
    );
  }
  const resumed = writtenAttributes.length > 0 || queryLog.length > 0;
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

  // --- Query induction ---
  const inducedLog = new Map(
    queryLog.filter((record) => record.kind === 'cluster').map((record) => [record.cluster, record] as const),
  );
  const queryOf = new Map<string, string>();
  const categoryOf = new Map<string, string>();
  const clusters = [...membersByCluster.keys()];
  for (const cluster of clusters) {
    const members = membersByCluster.get(cluster)!;
    categoryOf.set(cluster, majorityCategory(members));
    const logged = inducedLog.get(cluster);
    if (!logged) continue;
    if (logged.members.join('\n') !== members.map((member) => member.id).join('\n')) {
      throw new InputError(
        `cluster ${cluster} of the earlier run had other members: the seeds, embedder or cluster threshold changed. ${HOW_TO_FIX}`,
        paths.queries,
      );
    }
    queryOf.set(cluster, logged.query);
  }
  const pendingClusters = clusters.filter((cluster) => !queryOf.has(cluster));
  let induced = clusterCount - pendingClusters.length;
  report({ phase: 'induce-queries', done: induced, total: clusterCount, attributes: writtenAttributes.length });
  for (let start = 0; start < pendingClusters.length && !aborted(); start += settings.concurrency) {
    const batch = pendingClusters.slice(start, start + settings.concurrency);
    const questions = await Promise.all(
      batch.map(async (cluster) => {
        const members = membersByCluster.get(cluster)!;
        const random = deriveRandom(input.seed, `induce/${cluster}`);
        const samples = sampleWithoutReplacement(random, members, settings.samplesPerCluster).map(
          (member) => member.text,
        );
        const reply = await askStructured(
          deps.backend,
          buildQueryInductionMessages(samples),
          QueryInductionReplySchema,
          'persona_query_induction',
          settings,
          usage,
        );
        if (!reply) rejected.invalid_reply++;
        // A cluster needs a question; without a usable reply, fall back to a neutral one.
        return (reply && normalizeQuestion(reply.question)) ?? 'What else can you tell me about yourself?';
      }),
    );
    // Attributes first, then the log line: a crash in between only repeats the (idempotent) write.
    for (const [position, cluster] of batch.entries()) {
      const query = questions[position];
      queryOf.set(cluster, query);
      const members = membersByCluster.get(cluster)!;
      const fresh = members.filter((member) => !writtenIds.has(member.id));
      await appendJsonl(
        paths.attributes,
        fresh.map((member) => ({ ...member, cluster, query })),
      );
      fresh.forEach((member) => writtenIds.add(member.id));
      await appendJsonl(paths.queries, [
        { kind: 'cluster', cluster, query, members: members.map((member) => member.id) } satisfies ExpansionQueryRecord,
      ]);
      induced++;
    }
    report({ phase: 'induce-queries', done: induced, total: clusterCount, attributes: writtenIds.size });
  }

  // --- Query bootstrapping ---
  const bootstrapped: { cluster: string; query: string }[] = [];
  let stepsDone = 0;
  for (const record of queryLog) {
    if (record.kind !== 'query-step') continue;
    bootstrapped.push(...record.queries);
    stepsDone = Math.max(stepsDone, record.step + 1);
  }
  const knownQueries = () => [
    ...clusters.map((cluster) => queryOf.get(cluster)!).filter(Boolean),
    ...bootstrapped.map((entry) => entry.query),
  ];
  const queryIndex = new VectorIndex();
  const queryKeys = new Set<string>();
  const existingQueries = knownQueries();
  (await deps.embedder.embed(existingQueries)).forEach((vector) => queryIndex.add(vector));
  existingQueries.forEach((query) => queryKeys.add(questionKey(query)));
  report({
    phase: 'bootstrap-queries',
    done: stepsDone,
    total: settings.queryBootstrapSteps,
    attributes: writtenIds.size,
  });
  for (
    let step = stepsDone;
    step < settings.queryBootstrapSteps && !aborted() && queryOf.size === clusters.length;
    step++
  ) {
    const random = deriveRandom(input.seed, `query-bootstrap/${step}`);
    const shown = sampleWithoutReplacement(random, knownQueries(), settings.examplesPerPrompt);
    const reply = await askStructured(
      deps.backend,
      buildQueryBootstrapMessages(shown, settings.questionsPerStep),
      QueryBootstrapReplySchema,
      'persona_query_bootstrap',
      settings,
      usage,
    );
    if (!reply) rejected.invalid_reply++;
    const candidates = (reply?.questions ?? [])
      .map(normalizeQuestion)
      .filter((question): question is string => question !== undefined);
    const vectors = candidates.length > 0 ? await deps.embedder.embed(candidates) : [];
    const added: { cluster: string; query: string }[] = [];
    candidates.forEach((query, position) => {
      const key = questionKey(query);
      if (queryKeys.has(key) || queryIndex.nearest(vectors[position]).similarity > settings.nearDuplicateThreshold) {
        rejected.duplicate_query++;
        return;
      }
      queryKeys.add(key);
      queryIndex.add(vectors[position]);
      added.push({ cluster: `q${String(bootstrapped.length + added.length + 1).padStart(4, '0')}`, query });
    });
    bootstrapped.push(...added);
    await appendJsonl(paths.queries, [{ kind: 'query-step', step, queries: added } satisfies ExpansionQueryRecord]);
    stepsDone = step + 1;
    report({
      phase: 'bootstrap-queries',
      done: stepsDone,
      total: settings.queryBootstrapSteps,
      attributes: writtenIds.size,
    });
  }
  for (const entry of bootstrapped) {
    queryOf.set(entry.cluster, entry.query);
    categoryOf.set(entry.cluster, 'expanded');
  }

  // --- Persona bootstrapping ---
  const attributes = (await readJsonlIfExists(paths.attributes, AttributeSchema, HOW_TO_FIX)) ?? [];
  const attributeIndex = new VectorIndex();
  const vectorOf = new Map<string, number[]>();
  input.seeds.forEach((attribute, index) => vectorOf.set(attribute.id, seedVectors[index]));
  const unembedded = attributes.filter((attribute) => !vectorOf.has(attribute.id));
  (await deps.embedder.embed(unembedded.map((attribute) => attribute.text))).forEach((vector, index) =>
    vectorOf.set(unembedded[index].id, vector),
  );
  attributes.forEach((attribute) => attributeIndex.add(vectorOf.get(attribute.id)!));
  const loadByCluster = new Map<string, number>();
  for (const attribute of attributes) {
    if (attribute.cluster) loadByCluster.set(attribute.cluster, (loadByCluster.get(attribute.cluster) ?? 0) + 1);
  }
  const usedIds = new Set([
    ...attributes.map((attribute) => attribute.id),
    ...input.seeds.map((attribute) => attribute.id),
  ]);
  let expandedCount = attributes.filter((attribute) => /^x\d+$/.test(attribute.id)).length;
  const allQueries = [...queryOf.entries()].map(([cluster, query]) => ({ cluster, query }));
  const seedsComplete = queryOf.size >= clusters.length && input.seeds.every((attribute) => usedIds.has(attribute.id));
  const missingAtStart = Math.max(0, input.target - attributes.length);
  const maxAttempts = input.maxAttempts ?? missingAtStart * 4 + 20;
  let attempts = 0;
  report({ phase: 'bootstrap-personas', done: 0, total: missingAtStart, attributes: attributes.length });
  while (
    seedsComplete &&
    attributes.length < input.target &&
    attempts < maxAttempts &&
    !aborted() &&
    allQueries.length > 0
  ) {
    const batchSize = Math.min(settings.concurrency, input.target - attributes.length, maxAttempts - attempts);
    const pickRandom = deriveRandom(input.seed, `persona-pick/${attributes.length}/${attempts}`);
    const tieBreak = new Map(allQueries.map((entry) => [entry.cluster, pickRandom()]));
    const chosen = [...allQueries]
      .sort(
        (left, right) =>
          (loadByCluster.get(left.cluster) ?? 0) - (loadByCluster.get(right.cluster) ?? 0) ||
          tieBreak.get(left.cluster)! - tieBreak.get(right.cluster)!,
      )
      .slice(0, batchSize);
    const replies = await Promise.all(
      chosen.map(async (entry, position) => {
        const random = deriveRandom(input.seed, `persona/${attributes.length}/${attempts + position}`);
        const examples = sampleWithoutReplacement(random, attributes, settings.examplesPerPrompt).map(
          (attribute) => attribute.text,
        );
        return askStructured(
          deps.backend,
          buildPersonaBootstrapMessages(examples, entry.query),
          PersonaBootstrapReplySchema,
          'persona_bootstrap',
          settings,
          usage,
        );
      }),
    );
    attempts += chosen.length;
    const candidates = chosen.map((entry, position) => {
      // Every attempt counts against its question, so a question that keeps failing yields its turn.
      loadByCluster.set(entry.cluster, (loadByCluster.get(entry.cluster) ?? 0) + 1);
      const reply = replies[position];
      if (!reply) {
        rejected.invalid_reply++;
        return undefined;
      }
      const text = normalizeBootstrappedAttribute(reply.attribute);
      if (!text) rejected.malformed++;
      return text;
    });
    const valid = candidates.filter((text): text is string => text !== undefined);
    const vectors = valid.length > 0 ? await deps.embedder.embed(valid) : [];
    const accepted: Attribute[] = [];
    let vectorPosition = 0;
    for (const [position, text] of candidates.entries()) {
      if (text === undefined) continue;
      const vector = vectors[vectorPosition++];
      if (attributeIndex.nearest(vector).similarity > settings.nearDuplicateThreshold) {
        rejected.near_duplicate++;
        continue;
      }
      let id: string;
      do id = `x${String(++expandedCount).padStart(6, '0')}`;
      while (usedIds.has(id));
      usedIds.add(id);
      const { cluster, query } = chosen[position];
      const attribute: Attribute = { id, text, category: categoryOf.get(cluster) ?? 'expanded', cluster, query };
      attributeIndex.add(vector);
      vectorOf.set(id, vector);
      accepted.push(attribute);
    }
    await appendJsonl(paths.attributes, accepted);
    attributes.push(...accepted);
    report({
      phase: 'bootstrap-personas',
      done: Math.max(0, attributes.length - (input.target - missingAtStart)),
      total: missingAtStart,
      attributes: attributes.length,
    });
  }

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

/** One structured call; a reply that fails the schema even after the repair yields undefined. */
async function askStructured<T>(
  backend: LlmBackend,
  messages: ReturnType<typeof buildQueryInductionMessages>,
  schema: import('zod').ZodType<T>,
  name: string,
  settings: { temperature: number; maxOutputTokens: number },
  usage: CompletionUsage,
): Promise<T | undefined> {
  try {
    const result = await completeStructured(
      backend,
      { role: 'generator', messages, temperature: settings.temperature, maxOutputTokens: settings.maxOutputTokens },
      schema,
      name,
    );
    usage.promptTokens += result.usage.promptTokens;
    usage.completionTokens += result.usage.completionTokens;
    usage.calls += result.usage.calls;
    return result.value;
  } catch (error) {
    if (error instanceof StructuredOutputError) return undefined;
    throw error;
  }
}

function majorityCategory(members: readonly Attribute[]): string {
  const counts = new Map<string, number>();
  for (const member of members) counts.set(member.category, (counts.get(member.category) ?? 0) + 1);
  return [...counts].sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))[0][0];
}

function questionKey(question: string): string {
  return question
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}
