import { z } from 'zod';

/** What the filter panel replies: `{rationale, <filter field>: boolean, …, confidence: 0..1}`. */
export type FilterPanelReply = { rationale: string; confidence: number } & Record<string, unknown>;

// One schema object per field list, reused: zod compiles a schema on its first parse.
const filterPanelReplySchemas = new Map<string, z.ZodType<FilterPanelReply>>();

/**
 * The filter panel's reply schema (`critique.filters: combined`): a rationale, each filter
 * critic's boolean verdict field (every one required) and one confidence from 0 to 1.
 */
export function filterPanelReplySchema(fields: readonly string[]): z.ZodType<FilterPanelReply> {
  const key = JSON.stringify(fields);
  let schema = filterPanelReplySchemas.get(key);
  if (!schema) {
    schema = z.object({
      rationale: z.string(),
      ...Object.fromEntries(fields.map((field) => [field, z.boolean()])),
      confidence: z.number().min(0).max(1),
    }) as unknown as z.ZodType<FilterPanelReply>;
    filterPanelReplySchemas.set(key, schema);
  }
  return schema;
}
