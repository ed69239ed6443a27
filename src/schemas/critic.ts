import { z } from 'zod';

/** Frontmatter of a critic file in `critics/` (the body is the prompt). */
export const CriticFrontmatterSchema = z.object({
  /** Unique name; a file in `--critics DIR` with the same name replaces the built-in one. */
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lowercase letters, digits, "-" or "_"'),
  /** `filter` removes candidates; `pairwise` compares two candidates. */
  kind: z.enum(['filter', 'pairwise']),
  description: z.string().min(1),
  /**
   * Verdict fields the critic answers besides `rationale`.
   * filter: a boolean `field` and the value that rejects the candidate (`reject_when`).
   * pairwise: the answer is always `winner: "A" | "B"`.
   */
  verdict: z
    .object({
      field: z
        .string()
        .regex(/^[a-z][a-z0-9_]*$/)
        .default('winner'),
      reject_when: z.boolean().optional(),
    })
    .default({ field: 'winner' }),
  /** Set false to switch a built-in critic off from an override directory. */
  enabled: z.boolean().default(true),
});
export type CriticFrontmatter = z.infer<typeof CriticFrontmatterSchema>;

/** A loaded critic expert. */
export const CriticDefinitionSchema = CriticFrontmatterSchema.extend({
  /** Prompt template (Markdown body). */
  prompt: z.string().min(1),
  /** sha256 of the whole file, first 12 hex chars: recorded in lineage. */
  promptHash: z.string(),
  /** File the critic came from. */
  sourcePath: z.string(),
});
export type CriticDefinition = z.infer<typeof CriticDefinitionSchema>;

const buildFilterReplySchema = (field: string) =>
  z.object({
    rationale: z.string(),
    [field]: z.boolean(),
    /** 0..1, how sure the critic is. */
    confidence: z.number().min(0).max(1),
  });
const filterReplySchemas = new Map<string, ReturnType<typeof buildFilterReplySchema>>();

/**
 * What a filter critic replies (validated per critic: `field` is the critic's verdict field).
 * One schema object per field, reused: zod compiles a schema on its first parse.
 */
export const filterReplySchema = (field: string) => {
  let schema = filterReplySchemas.get(field);
  if (!schema) filterReplySchemas.set(field, (schema = buildFilterReplySchema(field)));
  return schema;
};

/** What a pairwise critic replies. */
export const PairwiseReplySchema = z.object({
  rationale: z.string(),
  winner: z.enum(['A', 'B']),
});
export type PairwiseReply = z.infer<typeof PairwiseReplySchema>;

/** The outcome of one filter critic on one candidate. */
export const FilterVerdictSchema = z.object({
  critic: z.string(),
  kind: z.literal('filter'),
  /** `lint` for the deterministic checks, `llm` for critic experts. */
  source: z.enum(['lint', 'llm']),
  passed: z.boolean(),
  confidence: z.number().min(0).max(1),
  rationale: z.string(),
});
export type FilterVerdict = z.infer<typeof FilterVerdictSchema>;

/**
 * The outcome of one pairwise expert on one candidate pair, asked in both orders.
 * `winner` is a candidate index, or null for a tie (the answer flipped with the order).
 */
export const PairwiseVerdictSchema = z.object({
  critic: z.string(),
  kind: z.literal('pairwise'),
  a: z.number().int().min(0),
  b: z.number().int().min(0),
  winner: z.number().int().min(0).nullable(),
  /** Winner index per asked order: [a shown first, b shown first]. */
  orderWinners: z.tuple([z.number().int().nullable(), z.number().int().nullable()]),
  rationale: z.string(),
});
export type PairwiseVerdict = z.infer<typeof PairwiseVerdictSchema>;

export const CriticVerdictSchema = z.discriminatedUnion('kind', [FilterVerdictSchema, PairwiseVerdictSchema]);
export type CriticVerdict = z.infer<typeof CriticVerdictSchema>;
