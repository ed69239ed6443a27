/** A snapshot of a run's progress, emitted after every finished pair. */
export interface RunProgress {
  iteration: number;
  iterations: number;
  /** Pairs finished in the whole run (all iterations). */
  done: number;
  total: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Prompt + completion tokens, all roles. */
  tokens: number;
  costUsd: number;
  elapsedMs: number;
  /** Estimated time to finish from the rate of this session's finished pairs; null until known. */
  etaMs: number | null;
}
