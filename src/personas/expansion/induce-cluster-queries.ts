import { InputError } from '../../errors.ts';
import type { Attribute } from '../../schemas/attribute.ts';
import { QueryInductionReplySchema, type ExpansionQueryRecord } from '../../schemas/persona-expansion.ts';
import { deriveRandom, sampleWithoutReplacement } from '../../util/create-random.ts';
import { askStructuredExpansionReply } from './ask-structured-expansion-reply.ts';
import { appendJsonl } from './expansion-files.ts';
import { buildQueryInductionMessages, normalizeQuestion } from './expansion-prompts.ts';
import type { ExpansionStepContext } from './expansion-step-context.ts';
import { INTERRUPTED_EXPANSION_HOW_TO_FIX } from './read-expansion-resume-log.ts';

export interface InduceClusterQueriesInput {
  /** Seed attributes of each cluster id, in cluster order. */
  membersByCluster: ReadonlyMap<string, Attribute[]>;
  clusterCount: number;
  /** Query log of an earlier run; its `cluster` records are reused once their members are checked. */
  queryLog: readonly ExpansionQueryRecord[];
  /** Ids already in the attributes file; the step adds the ids of the seeds it writes. */
  writtenIds: Set<string>;
  /** Attributes in the file before this session (for progress). */
  writtenAttributeCount: number;
}

export interface InducedClusterQueries {
  /** Question of each cluster that has one (all of them unless aborted). */
  queryOf: Map<string, string>;
  /** Majority seed category of every cluster. */
  categoryOf: Map<string, string>;
}

/**
 * Query induction: asks for the question each seed cluster answers, from a seeded sample of its
 * members, then appends the cluster's seeds (with cluster and query) and a `cluster` log record.
 * Clusters logged by an earlier run are reused; one whose members changed is an `InputError`.
 */
export async function induceClusterQueries(
  context: ExpansionStepContext,
  input: InduceClusterQueriesInput,
): Promise<InducedClusterQueries> {
  const { settings, paths, usage, rejected, report, aborted } = context;
  const { membersByCluster, clusterCount, queryLog, writtenIds } = input;
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
        `cluster ${cluster} of the earlier run had other members: the seeds, embedder or cluster threshold changed. ${INTERRUPTED_EXPANSION_HOW_TO_FIX}`,
        paths.queries,
      );
    }
    queryOf.set(cluster, logged.query);
  }
  const pendingClusters = clusters.filter((cluster) => !queryOf.has(cluster));
  let induced = clusterCount - pendingClusters.length;
  report({ phase: 'induce-queries', done: induced, total: clusterCount, attributes: input.writtenAttributeCount });
  for (let start = 0; start < pendingClusters.length && !aborted(); start += settings.concurrency) {
    const batch = pendingClusters.slice(start, start + settings.concurrency);
    const questions = await Promise.all(
      batch.map(async (cluster) => {
        const members = membersByCluster.get(cluster)!;
        const random = deriveRandom(context.seed, `induce/${cluster}`);
        const samples = sampleWithoutReplacement(random, members, settings.samplesPerCluster).map(
          (member) => member.text,
        );
        const reply = await askStructuredExpansionReply(
          context.backend,
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
  return { queryOf, categoryOf };
}

function majorityCategory(members: readonly Attribute[]): string {
  const counts = new Map<string, number>();
  for (const member of members) counts.set(member.category, (counts.get(member.category) ?? 0) + 1);
  return [...counts].sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))[0][0];
}
