import { z } from 'zod';

/** The LLM-judge protocols `persona-forge evaluate --judge-protocols` can run. */
export const JUDGE_PROTOCOLS = ['ai-detection', 'faithfulness'] as const;

/** Flags of `persona-forge evaluate`, as commander hands them over (camelCase). */
export const EvaluateFlagsSchema = z.object({
  reference: z.string().optional(),
  out: z.string().optional(),
  json: z.boolean().optional(),
  /** Rewrite `report.html` of a run directory. @defaultValue true */
  report: z.boolean().default(true),
  /** Judge model name; the judge protocols run only when it is set. */
  judge: z.string().min(1).optional(),
  judgeBaseUrl: z.string().url().optional(),
  /** Conversations judged per iteration. @defaultValue 50 */
  judgeSamples: z.number().int().positive().default(50),
  judgeProtocols: z.array(z.enum(JUDGE_PROTOCOLS)).default([...JUDGE_PROTOCOLS]),
  /** Trials judged at once (and judge calls in flight). @defaultValue 4 */
  judgeConcurrency: z.number().int().positive().default(4),
  seed: z.number().int().min(0).default(1),
  strict: z.boolean().default(false),
});
export type EvaluateFlags = z.input<typeof EvaluateFlagsSchema>;
