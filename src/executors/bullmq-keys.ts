/** The BullMQ queue every pair job goes through. */
export const PAIR_JOBS_QUEUE = 'pair-jobs';

/** Default key prefix of one deployment: queue keys are `pf:pair-jobs:*`, run keys `pf:run:<id>:*`. */
export const DEFAULT_KEY_PREFIX = 'pf';

/** Keys of one run (all under the deployment prefix). */
export interface RunKeys {
  /** String: the `RunContext` JSON workers read. */
  context: string;
  /** Hash: few-shot pool record id -> record JSON. */
  examples: string;
  /** Stream: one entry per finished job (`job` id, `o` deflated `PairOutcome`), deleted once written. */
  outcomes: string;
}

export function runKeys(prefix: string, runId: string): RunKeys {
  const base = `${prefix}:run:${runId}`;
  return {
    context: `${base}:context`,
    examples: `${base}:examples`,
    outcomes: `${base}:outcomes`,
  };
}

/**
 * Start of a job's failed reason when the worker could not reach its LLM endpoint; the
 * coordinator then stops the run (as the in-process executor does) instead of failing every pair.
 */
export const ENDPOINT_UNREACHABLE_REASON = 'EndpointUnreachableError:';
