import { z } from 'zod';

/**
 * Frontmatter of the combined panel prompt file (`critics/panel/combined.md`); the body is the
 * prompt. The panel's dimensions are not listed here: they are the loaded pairwise critics.
 */
export const CombinedPanelFrontmatterSchema = z.object({
  /** Panel name; the reply schema is sent as `panel_<name>`. */
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits or "_"'),
  /** One sentence saying what the panel does. */
  description: z.string().min(1),
});
export type CombinedPanelFrontmatter = z.infer<typeof CombinedPanelFrontmatterSchema>;

/** A loaded combined panel prompt (`critique.panel: combined`). */
export const CombinedPanelSchema = CombinedPanelFrontmatterSchema.extend({
  /** Prompt template (Markdown body) with `{{placeholders}}`. */
  prompt: z.string().min(1),
  /** sha256 of the whole file, first 12 hex chars: recorded in lineage like a critic's hash. */
  promptHash: z.string(),
  /** File the panel came from. */
  sourcePath: z.string(),
});
export type CombinedPanel = z.infer<typeof CombinedPanelSchema>;

/** One dimension's answer in a combined panel reply (the same fields a pairwise critic answers). */
export const PanelDimensionReplySchema = z.object({
  rationale: z.string(),
  winner: z.enum(['A', 'B']),
});
export type PanelDimensionReply = z.infer<typeof PanelDimensionReplySchema>;

type PanelReplySchema = z.ZodObject<Record<string, typeof PanelDimensionReplySchema>>;
// One schema object per dimension list, reused: zod compiles a schema on its first parse.
const panelReplySchemas = new Map<string, PanelReplySchema>();

/**
 * What the combined panel replies for one order: one `{rationale, winner}` per dimension, keyed
 * by the pairwise critic's name; every dimension is required.
 */
export function combinedPanelReplySchema(dimensions: readonly string[]): PanelReplySchema {
  const key = JSON.stringify(dimensions);
  let schema = panelReplySchemas.get(key);
  if (!schema) {
    schema = z.object(Object.fromEntries(dimensions.map((name) => [name, PanelDimensionReplySchema])));
    panelReplySchemas.set(key, schema);
  }
  return schema;
}
export type CombinedPanelReply = Record<string, PanelDimensionReply>;
