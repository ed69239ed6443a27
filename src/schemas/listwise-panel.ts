import { z } from 'zod';

/** One candidate's answer in a listwise reply: a 1–10 score per ranker dimension, plus each folded filter's boolean field. */
export type ListwiseCandidateReply = Record<string, number | boolean>;

/** What the listwise panel replies for one presentation order. */
export interface ListwiseReply {
  rationale: string;
  /** By the label the candidate was shown under ("1", "2", …). */
  scores: Record<string, ListwiseCandidateReply>;
}

// One schema object per shape, reused: zod compiles a schema on its first parse.
const listwiseReplySchemas = new Map<string, z.ZodType<ListwiseReply>>();

/**
 * What the listwise panel replies: `{rationale, scores: {"1": {<dimension>: 1..10, …, <filter
 * field>: boolean, …}, "2": …}}`, one entry per shown candidate label, every key required.
 * Scores are integers from 1 (worst) to 10 (best).
 */
export function listwiseReplySchema(
  labels: readonly string[],
  dimensions: readonly string[],
  checkFields: readonly string[],
): z.ZodType<ListwiseReply> {
  const key = JSON.stringify([labels, dimensions, checkFields]);
  let schema = listwiseReplySchemas.get(key);
  if (!schema) {
    const candidate = z.object({
      ...Object.fromEntries(dimensions.map((name) => [name, z.number().int().min(1).max(10)])),
      ...Object.fromEntries(checkFields.map((field) => [field, z.boolean()])),
    });
    schema = z.object({
      rationale: z.string(),
      scores: z.object(Object.fromEntries(labels.map((label) => [label, candidate]))),
    }) as unknown as z.ZodType<ListwiseReply>;
    listwiseReplySchemas.set(key, schema);
  }
  return schema;
}
