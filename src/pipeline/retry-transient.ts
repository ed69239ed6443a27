import pRetry, { AbortError } from 'p-retry';
import { EndpointUnreachableError, LlmError } from '../errors.ts';

export interface RetryTransientOptions {
  /** Extra attempts after the first. @defaultValue 3 */
  retries?: number;
  /** First backoff in milliseconds, doubled per attempt up to 8 s. @defaultValue 500 */
  minTimeoutMs?: number;
  onRetry?: (error: LlmError, attempt: number) => void;
}

/**
 * Job-level retry: runs `work` again when it fails with a retryable `LlmError` (a truncated or
 * malformed body, a reset, retries the HTTP layer gave up on). Replays are cheap because the
 * response cache serves every call that already succeeded. Other errors fail at once.
 */
export function retryTransient<T>(work: () => Promise<T>, options: RetryTransientOptions = {}): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await work();
      } catch (error) {
        const transient = error instanceof LlmError && error.retryable && !(error instanceof EndpointUnreachableError);
        throw transient ? error : new AbortError(error instanceof Error ? error : String(error));
      }
    },
    {
      retries: options.retries ?? 3,
      minTimeout: options.minTimeoutMs ?? 500,
      maxTimeout: 8_000,
      randomize: true,
      onFailedAttempt: ({ error, attemptNumber }) => options.onRetry?.(error as LlmError, attemptNumber),
    },
  );
}
