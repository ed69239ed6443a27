import { z } from 'zod';

/** Frontmatter of a prompt file that gives its system message (generator template, judge prompts). */
export const SystemPromptFrontmatterSchema = z.object({
  system: z.string().min(1),
});

/** A loaded generator prompt template: system message and user-message body with `{{placeholders}}`. */
export const PromptTemplateSchema = z.object({
  system: z.string(),
  body: z.string(),
  /** First 12 hex chars of the sha256 of the file: recorded in lineage. */
  hash: z.string(),
  /** The file it came from. */
  sourcePath: z.string(),
});
export type PromptTemplate = z.infer<typeof PromptTemplateSchema>;
