import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { EndpointUnreachableError, LlmError } from './errors.ts';

/** What the error messages may name. The API key is only used to scrub it from messages. */
export interface OpenAiErrorContext {
  /** Base URL of the endpoint, named in connection error messages. */
  baseUrl: string;
  /** Never shown: any occurrence in a server message is replaced by `[redacted]`. */
  apiKey?: string;
  /** Request timeout, named in timeout messages. */
  timeoutMs?: number;
}

/** Connection failures that mean "wrong address": retrying will not help, the URL must change. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Status codes worth retrying (the openai SDK's own list): timeout, conflict, rate limit, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The one place that turns openai SDK (and fetch) failures into persona-forge errors:
 * - HTTP error status -> `LlmError` with `status`, `requestId`, `retryable` (408/409/429/5xx);
 * - connection refused / DNS failure -> `EndpointUnreachableError` naming the base URL and the fix;
 * - timeouts, resets, truncated or malformed bodies -> retryable `LlmError`;
 * - an `LlmError` passes through unchanged.
 * Messages never contain the API key.
 */
export function mapOpenAiError(error: unknown, context: OpenAiErrorContext): LlmError {
  if (error instanceof LlmError) return error;
  const scrub = (message: string) => redactSecret(message, context.apiKey);

  if (error instanceof APIUserAbortError) {
    return new LlmError('LLM request was aborted.', { retryable: false, cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    const after = context.timeoutMs === undefined ? '' : ` after ${context.timeoutMs} ms`;
    return new LlmError(`LLM request to ${context.baseUrl} timed out${after}; raise the timeout or check the server load.`, {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) {
    const code = findErrorCode(error);
    if (code && UNREACHABLE_CODES.has(code)) {
      return new EndpointUnreachableError(
        `Cannot reach the LLM endpoint at ${context.baseUrl} (${code}). ` +
          'Is the server running? Check --base-url or OPENAI_BASE_URL.',
        { retryable: false, cause: error },
      );
    }
    const detail = code ?? describeCause(error);
    return new LlmError(scrub(`Connection to the LLM endpoint at ${context.baseUrl} failed (${detail}).`), {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    return new LlmError(scrub(`LLM endpoint ${context.baseUrl} answered ${error.message}${hintForStatus(status)}`), {
      status,
      retryable: isRetryableStatus(status),
      requestId: error.requestID ?? undefined,
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    return new LlmError(scrub(`LLM endpoint ${context.baseUrl} sent a malformed response (${error.message}).`), {
      retryable: true,
      cause: error,
    });
  }
  // undici reports a body cut off mid-way as `TypeError: terminated`; resets carry socket codes.
  const code = findErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const transient = message === 'terminated' || (code !== undefined && /^(ECONNRESET|EPIPE|UND_ERR_)/.test(code));
  return new LlmError(scrub(`LLM request to ${context.baseUrl} failed: ${code ?? message}.`), {
    retryable: transient,
    cause: error,
  });
}

function hintForStatus(status: number): string {
  if (status === 401 || status === 403) return ' (check OPENAI_API_KEY).';
  if (status === 404) return ' (check the model name and --base-url; it usually ends with /v1).';
  if (status === 429) return ' (rate limited; lower --concurrency or wait).';
  return '.';
}

/** Replaces every occurrence of `secret` in `text` (secrets shorter than 4 chars are not real keys). */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

/** The first `code` (e.g. `ECONNREFUSED`) along the cause chain, including AggregateError members. */
function findErrorCode(error: unknown, depth = 0): string | undefined {
  if (depth > 6 || typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof record.code === 'string' && record.code.length > 0) return record.code;
  if (Array.isArray(record.errors)) {
    for (const member of record.errors) {
      const code = findErrorCode(member, depth + 1);
      if (code) return code;
    }
  }
  return findErrorCode(record.cause, depth + 1);
}

function describeCause(error: Error): string {
  let current: unknown = error.cause;
  let description = error.message;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    description = current.message;
    current = current.cause;
  }
  return description;
}
