import { EndpointUnreachableError, LlmError } from '../errors.ts';

/** One failed attempt of an HTTP request to an OpenAI-compatible endpoint, before it becomes an `LlmError`. */
export type HttpFailure =
  /** The server answered with a non-2xx status. `body` is the reply text (may be empty). */
  | { kind: 'status'; status: number; body: string; requestId: string | undefined }
  /** No reply within the per-request timeout. */
  | { kind: 'timeout' }
  /** The caller's `AbortSignal` fired. */
  | { kind: 'aborted' }
  /** The connection could not be made or broke before a reply arrived (`error.code`: ECONNREFUSED, ECONNRESET, ...). */
  | { kind: 'connection'; error: Error }
  /** A 2xx reply whose body was cut off or is not the expected JSON. */
  | { kind: 'malformed'; detail: string; requestId: string | undefined };

/** What the error messages may name. The API key is only used to scrub it from messages. */
export interface HttpErrorContext {
  /** Base URL of the endpoint, named in every message. */
  baseUrl: string;
  /** Never shown: any occurrence in a server message is replaced by `[redacted]`. */
  apiKey?: string;
  /** Request timeout, named in timeout messages. */
  timeoutMs?: number;
}

/** Connection failures that mean "wrong address": the URL must change. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Status codes worth retrying (the openai SDK's list): timeout, conflict, rate limit, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The one place that turns a failed HTTP attempt into a persona-forge error:
 * - HTTP error status -> `LlmError` with `status`, `requestId`, `retryable` (408/409/429/5xx) and a fix hint;
 * - connection refused / DNS failure -> `EndpointUnreachableError` naming the base URL and the fix;
 * - timeouts, resets, truncated or malformed bodies -> retryable `LlmError`;
 * - an abort by the caller -> non-retryable `LlmError`.
 * Messages never contain the API key.
 */
export function mapHttpFailure(failure: HttpFailure, context: HttpErrorContext): LlmError {
  const scrub = (message: string) => redactSecret(message, context.apiKey);
  switch (failure.kind) {
    case 'aborted':
      return new LlmError('LLM request was aborted.', { retryable: false });
    case 'timeout': {
      const after = context.timeoutMs === undefined ? '' : ` after ${context.timeoutMs} ms`;
      return new LlmError(`LLM request to ${context.baseUrl} timed out${after}; raise the timeout or check the server load.`, {
        retryable: true,
      });
    }
    case 'connection': {
      const code = (failure.error as NodeJS.ErrnoException).code;
      if (code && UNREACHABLE_CODES.has(code)) {
        return new EndpointUnreachableError(
          `Cannot reach the LLM endpoint at ${context.baseUrl} (${code}). ` +
            'Is the server running? Check --base-url or OPENAI_BASE_URL.',
          { retryable: false, cause: failure.error },
        );
      }
      return new LlmError(scrub(`Connection to the LLM endpoint at ${context.baseUrl} failed (${code ?? failure.error.message}).`), {
        retryable: true,
        cause: failure.error,
      });
    }
    case 'malformed':
      return new LlmError(scrub(`LLM endpoint ${context.baseUrl} sent a malformed response (${failure.detail}).`), {
        retryable: true,
        requestId: failure.requestId,
      });
    case 'status':
      return new LlmError(
        scrub(`LLM endpoint ${context.baseUrl} answered ${failure.status} ${describeErrorBody(failure.body)}${hintForStatus(failure.status)}`),
        { status: failure.status, retryable: isRetryableStatus(failure.status), requestId: failure.requestId },
      );
  }
}

/** The server's own words: `error.message` of an OpenAI-style error body, else the start of the text. */
function describeErrorBody(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === 'object' ? parsed.error?.message : (parsed.error ?? parsed.message);
    if (typeof message === 'string' && message.trim()) return message.trim();
  } catch {
    // not JSON: the text itself
  }
  const text = body.trim().replace(/\s+/g, ' ');
  if (!text) return 'status code (no body)';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
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
