import { z } from 'zod';

/**
 * One line of `<run>/batches.jsonl`: the state of one OpenAI Batch API batch as persona-forge
 * last saw it. Lines are appended; the last line of a batch id wins. A restarted run reads the file
 * and waits for (re-attaches to) every batch holding a request it needs, instead of paying twice.
 */
export const BatchStateLineSchema = z.object({
  batch_id: z.string().min(1),
  /** `submitted` when created; then the Batch API's status (`validating`, `in_progress`, `completed`, `failed`, `expired`, …). */
  status: z.string(),
  /** The requests in the batch (`custom_id` = `pf-` + hash of the request body, plus `-<n>` for the n-th retry). Present on the `submitted` line. */
  custom_ids: z.array(z.string()).optional(),
  input_file_id: z.string().optional(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  /** Requests the batch reported as failed (they go through the retry policy under a new custom id). */
  failed_custom_ids: z.array(z.string()).optional(),
  request_counts: z.object({ total: z.number(), completed: z.number(), failed: z.number() }).optional(),
  at: z.string(),
});
export type BatchStateLine = z.infer<typeof BatchStateLineSchema>;
