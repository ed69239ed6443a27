import { z } from 'zod';

/*
 * What the LLM judge replies in each protocol (validated by `completeStructured`). The schema
 * names sent to the endpoint are `ai_detection`, `faithfulness_judgment` and
 * `faithfulness_distractors`.
 */

export const AiDetectionReplySchema = z.object({
  rationale: z.string(),
  /** The conversation the judge thinks an AI generated. */
  synthetic: z.enum(['A', 'B']),
});
export type AiDetectionReply = z.infer<typeof AiDetectionReplySchema>;

export const FaithfulnessReplySchema = z.object({
  judgments: z.array(
    z.object({
      /** 1-based number of the statement as shown. */
      statement: z.number().int().min(1),
      label: z.enum(['inferred', 'contradicted', 'neither']),
      rationale: z.string().default(''),
    }),
  ),
});
export type FaithfulnessReply = z.infer<typeof FaithfulnessReplySchema>;

export const FaithfulnessDistractorsReplySchema = z.object({
  negated: z.array(z.string()),
  contradicting: z.array(z.string()),
});
export type FaithfulnessDistractorsReply = z.infer<typeof FaithfulnessDistractorsReplySchema>;

export const JUDGE_SCHEMA_NAMES = {
  aiDetection: 'ai_detection',
  faithfulness: 'faithfulness_judgment',
  faithfulnessDistractors: 'faithfulness_distractors',
} as const;
