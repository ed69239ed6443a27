import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { PairJobRunner } from './pair-job-runner.ts';

/**
 * The jobs of one `Executor.run`, produced lazily: an executor pulls them as it has room, so it
 * holds the jobs in flight, never the whole wave (a wave of 200,000 pairs stays on disk in
 * `plan.jsonl`). It may be iterated more than once (an array, or an object whose iterator starts
 * a new pass); each pass yields the jobs still unfinished when it reaches them.
 */
export type PairJobSource = Iterable<PairJob> | AsyncIterable<PairJob>;

/** An iterator over a new pass of `jobs`. */
export function iteratePairJobs(jobs: PairJobSource): AsyncIterator<PairJob> {
  if (Symbol.asyncIterator in jobs) return jobs[Symbol.asyncIterator]();
  const pass = jobs[Symbol.iterator]();
  return { next: async () => pass.next() };
}

/**
 * Runs pair jobs somewhere (this process, or BullMQ workers) and hands every outcome back to the
 * coordinator, which alone writes files. The coordinator never knows which executor runs.
 */
export interface Executor {
  /** `in-process` or `bullmq`, for the manifest. */
  readonly kind: string;
  /**
   * Runs the jobs, pulling them from `jobs` as it has room; resolves when every admitted job has
   * reported. Once `signal` aborts, no new job is started; jobs already running finish and report.
   * `onOutcome` may be called again before an earlier call settles (the coordinator makes its
   * decisions synchronously when a call starts); an executor may also wait for each call.
   */
  run(jobs: PairJobSource, onOutcome: (outcome: PairOutcome) => Promise<void>, signal?: AbortSignal): Promise<void>;
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
