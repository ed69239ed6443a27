import { z } from 'zod';
import { IterationSummarySchema } from './manifest.ts';

/** How much of a run file a checkpoint covers: its first `bytes` bytes, which hold `lines` lines. */
export const RunFileMarkSchema = z.object({
  bytes: z.number().int().min(0),
  lines: z.number().int().min(0),
});
export type RunFileMark = z.infer<typeof RunFileMarkSchema>;

/** The counts an iteration's outcome lines add up to (`tallyOutcome`), without what the run sets itself. */
export const OutcomeTallySchema = IterationSummarySchema.pick({
  iteration: true,
  done: true,
  candidates: true,
  accepted: true,
  rejected: true,
  failed: true,
  filtered_by: true,
  usage: true,
  cost_usd: true,
  reply_parsing: true,
  few_shot: true,
});
export type OutcomeTally = z.infer<typeof OutcomeTallySchema>;

/**
 * `resume-checkpoint.json` in a run directory: the run files as they were at one moment when
 * every record in them belonged to a committed pair (its outcome line written), with what a
 * resume would otherwise add up from every outcome line before that moment. A resume reads the
 * files in full only after the marks; before them it needs only which pairs are finished.
 */
export const ResumeCheckpointSchema = z.object({
  version: z.literal(1),
  files: z.object({
    outcomes: RunFileMarkSchema,
    conversations: RunFileMarkSchema,
    candidates: RunFileMarkSchema,
    surplus: RunFileMarkSchema,
  }),
  /** Rows in `conversations.jsonl` before its mark. */
  accepted_rows: z.number().int().min(0),
  /**
   * Outcome lines with status `failed` before the mark. A resume forgets failed pairs (their
   * outcome lines and candidates are removed so they run again), which needs every file read: a
   * checkpoint with failed pairs is not used.
   */
  failed_pairs: z.number().int().min(0),
  /** Per iteration, the outcome lines before the mark other than failed ones, tallied. */
  iterations: z.array(OutcomeTallySchema),
});
export type ResumeCheckpoint = z.infer<typeof ResumeCheckpointSchema>;
