import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';

/**
 * Runs pair jobs somewhere (this process, or BullMQ workers) and hands every outcome back to the
 * coordinator, which alone writes files. The coordinator never knows which executor runs.
 */
export interface Executor {
  /** `in-process` or `bullmq`, for the manifest. */
  readonly kind: string;
  /**
   * Runs the jobs; resolves when every admitted job has reported. Once `signal` aborts, no new
   * job is started; jobs already running finish and report.
   * `onOutcome` calls are serialized (never two at once).
   */
  run(jobs: readonly PairJob[], onOutcome: (outcome: PairOutcome) => Promise<void>, signal?: AbortSignal): Promise<void>;
  /** Releases connections and workers. Idempotent. */
  close(): Promise<void>;
}
