import { QueryBootstrapReplySchema, type ExpansionQueryRecord } from '../../schemas/persona-expansion.ts';
import { deriveRandom, sampleWithoutReplacement } from '../../util/create-random.ts';
import { askStructuredExpansionReply } from './ask-structured-expansion-reply.ts';
import { appendJsonl } from './expansion-files.ts';
import { buildQueryBootstrapMessages, normalizeQuestion } from './expansion-prompts.ts';
import type { ExpansionStepContext } from './expansion-step-context.ts';
import { VectorIndex } from './vector-index.ts';

export interface BootstrapExpansionQueriesInput {
  /** Query log of an earlier run; its `query-step` records are reused and the steps continue after them. */
  queryLog: readonly ExpansionQueryRecord[];
  /** Every seed cluster id, in cluster order. */
  clusters: readonly string[];
  /** Induced question of each cluster; no step runs unless every cluster has one. */
  queryOf: ReadonlyMap<string, string>;
  /** Attributes in the output file (for progress). */
  attributeCount: number;
}

/**
 * Query bootstrapping: each step shows a seeded sample of the known questions and keeps the new
 * ones that are neither a repeat nor a near-duplicate, appending a `query-step` log record.
 * Returns every bootstrapped question, earlier runs' first, with cluster ids `q0001`, `q0002`, ….
 */
export async function bootstrapExpansionQueries(
  context: ExpansionStepContext,
  input: BootstrapExpansionQueriesInput,
): Promise<{ cluster: string; query: string }[]> {
  const { settings, paths, usage, rejected, report, aborted } = context;
  const { queryLog, clusters, queryOf } = input;
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
  (await context.embedder.embed(existingQueries)).forEach((vector) => queryIndex.add(vector));
  existingQueries.forEach((query) => queryKeys.add(questionKey(query)));
  report({
    phase: 'bootstrap-queries',
    done: stepsDone,
    total: settings.queryBootstrapSteps,
    attributes: input.attributeCount,
  });
  for (
    let step = stepsDone;
    step < settings.queryBootstrapSteps && !aborted() && queryOf.size === clusters.length;
    step++
  ) {
    const random = deriveRandom(context.seed, `query-bootstrap/${step}`);
    const shown = sampleWithoutReplacement(random, knownQueries(), settings.examplesPerPrompt);
    const reply = await askStructuredExpansionReply(
      context.backend,
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
    const vectors = candidates.length > 0 ? await context.embedder.embed(candidates) : [];
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
      attributes: input.attributeCount,
    });
  }
  return bootstrapped;
}

function questionKey(question: string): string {
  return question
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}
