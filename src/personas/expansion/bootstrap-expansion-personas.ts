import type { Attribute } from '../../schemas/attribute.ts';
import { PersonaBootstrapReplySchema } from '../../schemas/persona-expansion.ts';
import { deriveRandom, sampleWithoutReplacement } from '../../util/create-random.ts';
import { askStructuredExpansionReply } from './ask-structured-expansion-reply.ts';
import { appendJsonl } from './expansion-files.ts';
import { buildPersonaBootstrapMessages, normalizeBootstrappedAttribute } from './expansion-prompts.ts';
import type { ExpansionStepContext } from './expansion-step-context.ts';
import { readExpandedAttributesFile } from './read-expansion-resume-log.ts';
import { VectorIndex } from './vector-index.ts';

export interface BootstrapExpansionPersonasInput {
  seeds: readonly Attribute[];
  /** Embedding of each seed, in seed order. */
  seedVectors: readonly number[][];
  /** Attributes wanted in the output, seeds included. */
  target: number;
  /** Attempts before giving up short of `target`. @defaultValue 4 × missing + 20 */
  maxAttempts: number | undefined;
  /** Every seed cluster id, in cluster order. */
  clusters: readonly string[];
  /** Question of every cluster, induced and bootstrapped (`q…`) ones. */
  queryOf: ReadonlyMap<string, string>;
  /** Category of every cluster; new attributes take their question's. */
  categoryOf: ReadonlyMap<string, string>;
}

export interface BootstrappedExpansionPersonas {
  /** Every attribute of the output file, in file order. */
  attributes: Attribute[];
  /** Embedding of every attribute by id. */
  vectorOf: Map<string, number[]>;
  /** True when every cluster has a question and every seed is in the file; only then does the step add attributes. */
  seedsComplete: boolean;
}

/**
 * Persona bootstrapping: asks for new attributes answering the least-used questions in the style of
 * a seeded sample of existing attributes, drops near-duplicates and appends the rest (ids `x000001`, …)
 * until the file holds `target` attributes, the attempts run out or the run is aborted.
 */
export async function bootstrapExpansionPersonas(
  context: ExpansionStepContext,
  input: BootstrapExpansionPersonasInput,
): Promise<BootstrappedExpansionPersonas> {
  const { settings, paths, usage, rejected, report, aborted } = context;
  const { seedVectors, clusters, queryOf, categoryOf } = input;
  const attributes = await readExpandedAttributesFile(paths);
  const attributeIndex = new VectorIndex();
  const vectorOf = new Map<string, number[]>();
  input.seeds.forEach((attribute, index) => vectorOf.set(attribute.id, seedVectors[index]));
  const unembedded = attributes.filter((attribute) => !vectorOf.has(attribute.id));
  (await context.embedder.embed(unembedded.map((attribute) => attribute.text))).forEach((vector, index) =>
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
    const pickRandom = deriveRandom(context.seed, `persona-pick/${attributes.length}/${attempts}`);
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
        const random = deriveRandom(context.seed, `persona/${attributes.length}/${attempts + position}`);
        const examples = sampleWithoutReplacement(random, attributes, settings.examplesPerPrompt).map(
          (attribute) => attribute.text,
        );
        return askStructuredExpansionReply(
          context.backend,
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
    const vectors = valid.length > 0 ? await context.embedder.embed(valid) : [];
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
  return { attributes, vectorOf, seedsComplete };
}
