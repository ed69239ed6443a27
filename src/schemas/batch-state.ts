import { z } from 'zod';

/**
 * One line of `<run>/batches.jsonl`: the state of one OpenAI Batch API batch as persona-forge
 * last saw it. Lines are appended; the last line of a batch id wins. A restarted run reads the file
 * and waits for (re-attaches to) every batch holding a request it needs, instead of paying twice.
 */
export const BatchStateLineSchema = z.object({
  /** Absent on an `uploaded` line (the file is uploaded, the batch not created yet). */
  batch_id: z.string().min(1).optional(),
  /**
   * `uploaded` once the request file is uploaded, before the batch is created (a restart that finds
   * no `submitted` line for it looks the batch up by `input_file_id`); `submitted` when created; `reattached` when a restarted run found it here and waited for it
   * instead of submitting its requests again; `request_failed` for requests it reported as failed;
   * then the Batch API's status (`validating`, `in_progress`, `completed`, `failed`, `expired`, …).
   */
  status: z.string(),
  /** The requests in the batch (`custom_id` = `pf-` + hash of the request body, plus `-<n>` for the n-th retry). Present on the `submitted` line. */
  custom_ids: z.array(z.string()).optional(),
  /** Requests by stage (reply schema name; `text` for the generator's), on the `submitted` line. */
  requests_by_stage: z.record(z.string(), z.number().int().min(0)).optional(),
  input_file_id: z.string().optional(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  /** Requests the batch reported as failed (they go through the retry policy under a new custom id). */
  failed_custom_ids: z.array(z.string()).optional(),
  request_counts: z.object({ total: z.number(), completed: z.number(), failed: z.number() }).optional(),
  at: z.string(),
});
export type BatchStateLine = z.infer<typeof BatchStateLineSchema>;

/** What `--batch` sent through the Batch API over all sessions of a run (`manifest.json` `batches`). */
export const BatchSummarySchema = z.object({
  /** Batches submitted. */
  batches: z.number().int().min(0),
  /** Requests in them, in all and by stage (see `requests_by_stage`). */
  requests: z.number().int().min(0),
  requests_by_stage: z.record(z.string(), z.number().int().min(0)),
  /** Requests a batch reported as failed; each went through the retry policy into a later batch. */
  failed_requests: z.number().int().min(0),
  /** Times a restarted run waited for a batch an earlier session had submitted, instead of paying again. */
  reattached: z.number().int().min(0),
  /** The run's cost had its batch tokens been sent at the full price (the manifest's costs are at batch prices). */
  cost_without_batch_usd: z.number().min(0),
});
export type BatchSummary = z.infer<typeof BatchSummarySchema>;
