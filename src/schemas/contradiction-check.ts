import { z } from 'zod';

/**
 * What the critic model replies when asked whether a candidate attribute contradicts a profile
 * (schema name `contradiction_check`). `contradicts` is true when the candidate contradicts any
 * held attribute or any held attribute contradicts the candidate.
 */
export const ContradictionCheckReplySchema = z.object({
  /** Why the candidate does or does not contradict the profile (one or two sentences). */
  rationale: z.string(),
  /** True when the candidate and at least one held attribute cannot both be true of one person. */
  contradicts: z.boolean(),
});
export type ContradictionCheckReply = z.infer<typeof ContradictionCheckReplySchema>;

// One schema object per item count, reused: zod compiles a schema on its first parse.
const batchReplySchemas = new Map<number, z.ZodType<ContradictionChecksReply>>();

/** What the critic model replies to a batch of contradiction checks (schema name `contradiction_checks`): one verdict per item id "1", "2", …. */
export interface ContradictionChecksReply {
  verdicts: Record<string, ContradictionCheckReply>;
}

/** The batch reply schema for `count` items, every item id required. */
export function contradictionChecksReplySchema(count: number): z.ZodType<ContradictionChecksReply> {
  let schema = batchReplySchemas.get(count);
  if (!schema) {
    const ids = Array.from({ length: count }, (_, position) => String(position + 1));
    schema = z.object({
      verdicts: z.object(Object.fromEntries(ids.map((id) => [id, ContradictionCheckReplySchema]))),
    }) as unknown as z.ZodType<ContradictionChecksReply>;
    batchReplySchemas.set(count, schema);
  }
  return schema;
}
