import { setTimeout as sleep } from 'node:timers/promises';
import { EndpointUnreachableError, LlmError, type LlmFault } from '../errors.ts';
import { addLlmFaults, emptyLlmFaults, type LlmFaults } from '../schemas/llm-faults.ts';
import { takeCarriedFaults } from './carried-faults.ts';
import { contextCapabilityOf } from './with-context-length.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';

/**
 * persona-forge's one retry policy for LLM calls. Every retry of an LLM request is decided here;
 * nothing else retries (the openai SDK runs with `maxRetries: 0`, pair jobs and BullMQ do not
 * retry LLM faults).
 *
 * Which errors: an `LlmError` with `retryable: true`, except `EndpointUnreachableError` (connection
 * refused or DNS failure: fix the URL) and an abort by the caller. That is 429, 408, 409 and 5xx
 * (or whatever the server's `x-should-retry` header says), the configured timeout (hung requests
 * are hedged well before it, see `hedge-backend.ts`), a connection reset, a body cut off or not
 * JSON, an empty reply, and (re-asked by `completeStructured`) a reply whose content is still not
 * valid JSON for its schema after the one repair.
 *
 * How many: `maxRetries` retries after the first attempt (default 10: at 30 % failing requests
 * one request in ~570,000 still fails), `invalidJsonRetries` re-asks (default 3).
 *
 * Backoff: 0.5 s · 2ⁿ capped at 8 s, minus up to 25 % jitter; when the server sends
 * `retry-after-ms` (milliseconds) or `Retry-After` (seconds or an HTTP date) that wait is used
 * instead, cut to `maxRetryAfterMs` (60 s). An unusable reply is asked for again at once: the
 * server did not ask to slow down.
 */
export interface RetryPolicy {
  /** Retries after the first attempt, for every cause but `invalid_json`. Config `llm.max_retries`. @defaultValue 10 */
  maxRetries: number;
  /** Re-asks of a structured request whose content is unusable after the repair. @defaultValue 3 */
  invalidJsonRetries: number;
  /** First backoff in milliseconds, doubled per retry. @defaultValue 500 */
  initialDelayMs: number;
  /** Longest backoff in milliseconds. @defaultValue 8000 */
  maxDelayMs: number;
  /** Longest server-asked wait honoured, in milliseconds; longer waits are cut to this. @defaultValue 60000 */
  maxRetryAfterMs: number;
  /** Jitter source (tests). @defaultValue Math.random */
  random?: () => number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 10,
  invalidJsonRetries: 3,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
});

/** Why a call is retried, as the manifest counts it; `other` for a retryable error no adapter named. */
export type RetryCause = LlmFault | 'other';

/** The cause under which `error` is retried, or undefined when the policy does not retry it. */
export function retryCauseOf(error: unknown): RetryCause | undefined {
  if (!(error instanceof LlmError) || !error.retryable || error instanceof EndpointUnreachableError) return undefined;
  if (error.fault) return error.fault;
  if (error.status === 429) return 'rate_limited';
  if (error.status !== undefined) return 'server_error';
  return 'other';
}

/** Retries allowed for `cause`. */
export function retryLimitFor(cause: RetryCause, policy: RetryPolicy): number {
  return cause === 'invalid_json' ? policy.invalidJsonRetries : policy.maxRetries;
}

/** The wait before retry number `retriesDone + 1` after `error`, in milliseconds. */
export function retryDelayMs(error: LlmError, cause: RetryCause, retriesDone: number, policy: RetryPolicy): number {
  if (cause === 'invalid_json') return 0;
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  const backoff = Math.min(policy.initialDelayMs * 2 ** retriesDone, policy.maxDelayMs);
  return backoff * (1 - (policy.random ?? Math.random)() * 0.25);
}

export interface RetryWithPolicyOptions {
  /** Stops waiting and retrying; the last error is thrown. */
  signal?: AbortSignal;
  /** Called before each retry's wait. */
  onRetry?: (cause: RetryCause, error: LlmError, retriesDone: number) => void;
}

/** Runs `work` until it succeeds or `policy` says stop; throws the last error. */
export async function retryWithPolicy<T>(
  work: () => Promise<T>,
  policy: RetryPolicy,
  options: RetryWithPolicyOptions = {},
): Promise<T> {
  const retriesByCause = new Map<RetryCause, number>();
  for (let retriesDone = 0; ; retriesDone++) {
    try {
      return await work();
    } catch (error) {
      const cause = retryCauseOf(error);
      if (cause === undefined || options.signal?.aborted) throw error;
      const done = retriesByCause.get(cause) ?? 0;
      if (done >= retryLimitFor(cause, policy) || retriesDone >= policy.maxRetries + policy.invalidJsonRetries)
        throw error;
      retriesByCause.set(cause, done + 1);
      options.onRetry?.(cause, error as LlmError, retriesDone);
      try {
        await sleep(retryDelayMs(error as LlmError, cause, retriesDone, policy), undefined, { signal: options.signal });
      } catch {
        throw error;
      }
    }
  }
}

/**
 * A backend decorator that applies `policy` to every `complete` call and reports the retries by
 * cause in `result.usage.faults.retries` (so they reach the pair's usage and the manifest). Put it
 * outside the concurrency limiter, so a request waiting out its backoff holds no slot.
 */
export function retryBackend(backend: LlmBackend, policy: RetryPolicy = DEFAULT_RETRY_POLICY): LlmBackend {
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    ...contextCapabilityOf(backend),
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      let faults: LlmFaults | undefined;
      const countRetry = (cause: RetryCause) => {
        faults ??= emptyLlmFaults();
        faults.retries[cause] = (faults.retries[cause] ?? 0) + 1;
      };
      const result = await retryWithPolicy(() => backend.complete(request), policy, {
        signal: request.signal,
        onRetry: (cause, error) => {
          faults = addLlmFaults(faults, takeCarriedFaults(error));
          countRetry(cause);
        },
      });
      // A re-ask by completeStructured after an unusable reply is a retry too.
      if (request.reaskOf) countRetry(request.reaskOf);
      if (!faults) return result;
      return { ...result, usage: { ...result.usage, faults: addLlmFaults(faults, result.usage.faults) } };
    },
    // The wrapped backend is owned by whoever created it.
    dispose: async () => {},
  };
}
