import type { OpenAiConnection } from '../openai/openai-connection.ts';

/** Progress of one batch, reported on every poll. */
export interface BatchProgress {
  batchId: string;
  status: string;
  /** Requests in the batch, done so far and failed so far (as the Batch API counts them). */
  total: number;
  completed: number;
  failed: number;
  /** True when this process found the batch in `batches.jsonl` rather than submitting it. */
  reattached: boolean;
}

export interface BatchingConnectionOptions {
  /** The endpoint (its SDK client uploads files and creates, polls and downloads batches). */
  connection: OpenAiConnection;
  /** `<run dir>/batches.jsonl`: batch ids and custom ids, appended as they change. */
  stateFile: string;
  /** Requests arriving within this window of each other go into one batch. @defaultValue 2000 */
  quietWindowMs?: number;
  /**
   * Most requests in one batch; more waiting at once are split over several batches (the OpenAI
   * Batch API takes 50,000 requests and 200 MB per input file; batches are also split at 190 MB).
   * @defaultValue 50000
   */
  maxRequestsPerBatch?: number;
  /** Time between two polls of a pending batch. @defaultValue 30000 */
  pollIntervalMs?: number;
  /** Called after each poll. */
  onProgress?: (progress: BatchProgress) => void;
  /**
   * The run's stop signal (Ctrl-C): once aborted, nothing more is submitted and every request
   * waiting for a batch rejects at once (not retryable), instead of the run waiting up to 24 h for
   * batches in flight; those keep running at the provider and a `--resume` re-attaches to them.
   * @defaultValue none
   */
  signal?: AbortSignal;
}

/** Counters of one process, for the run summary and tests. */
export interface BatchCounts {
  batchesSubmitted: number;
  batchesReattached: number;
  requestsSubmitted: number;
  requestsFailed: number;
}

/** Input file size at which a batch is split (the OpenAI Batch API takes up to 200 MB). */
export const MAX_BATCH_FILE_BYTES = 190 * 1024 * 1024;
