import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { PairJobRunner } from './pair-job-runner.ts';

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
   * `onOutcome` may be called again before an earlier call settles (the coordinator makes its
   * decisions synchronously when a call starts); an executor may also wait for each call.
   */
  run(
    jobs: readonly PairJob[],
    onOutcome: (outcome: PairOutcome) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * How long the coordinator may hold a finished pair so that pairs finishing close together share
   * one durable write of the run files (0 or absent: each is written at once). Only useful when
   * `onOutcome` is called without waiting for earlier calls.
   */
  readonly commitLingerMs?: number;
  /** Releases connections and workers. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the executor of one run from its pair-job runner: the in-process executor calls
 * `runner.runJob`; the BullMQ executor stores `runner.context` in Redis, and each worker builds
 * the same runner (`createPairJobRunner`) around its own LLM stack.
 */
export type ExecutorFactory = (runner: PairJobRunner) => Executor;
