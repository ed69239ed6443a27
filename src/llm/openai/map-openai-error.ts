import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { EndpointUnreachableError, LlmError } from '../../errors.ts';
import { ReplyBodyCutError } from './buffered-fetch.ts';

/** What error messages may name. The API key is only used to scrub it from messages. */
export interface OpenAiErrorContext {
  /** Base URL of the endpoint (no credentials), named in every message. */
  baseUrl: string;
  /** Never shown: any occurrence in a server message is replaced by `[redacted]`. */
  apiKey?: string;
  /** Request timeout, named in timeout messages. */
  timeoutMs: number;
  /** True when the request's own timeout fired (rather than the caller's signal). */
  timedOut: boolean;
  /** True when the caller's signal fired. */
  aborted: boolean;
  /** `body` once the status and headers arrived and the body was being read. */
  phase: 'request' | 'body';
}

/** Connection failures that mean "wrong address": the URL must change. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The one place that turns a failed request through the openai SDK (and undici's fetch) into a
 * persona-forge error. It decides nothing about retrying beyond marking what is transient
 * (`retryable`, `fault`, `retryAfterMs`); `src/llm/retry-policy.ts` decides the rest.
 * - HTTP error status -> `LlmError` with `status`, `requestId`, a fix hint, `retryable` for
 *   408/409/429/5xx (or as the server's `x-should-retry` says) and the server's Retry-After;
 * - connection refused / DNS failure -> `EndpointUnreachableError` naming the base URL and the fix;
 * - timeouts, resets, bodies cut off or not JSON -> retryable `LlmError` naming the fault;
 * - an abort by the caller -> non-retryable `LlmError`.
 * Messages never contain the API key.
 */
export function mapOpenAiError(error: unknown, context: OpenAiErrorContext): LlmError {
  if (error instanceof LlmError) return error;
  const scrub = (message: string) => redactSecret(message, context.apiKey);
  if (context.timedOut || error instanceof APIConnectionTimeoutError) {
    return new LlmError(
      `LLM request to ${context.baseUrl} timed out after ${context.timeoutMs} ms; raise the timeout or check the server load.`,
      {
        retryable: true,
        fault: 'timeout',
      },
    );
  }
  if (context.aborted || error instanceof APIUserAbortError)
    return new LlmError('LLM request was aborted.', { retryable: false });
  if (context.phase === 'body') {
    // undici: "terminated" when the connection closes while the body is being read.
    return new LlmError(
      scrub(
        `LLM endpoint ${context.baseUrl} sent a malformed response (the body was cut off: ${innermostMessage(error)}).`,
      ),
      {
        retryable: true,
        fault: 'truncated_body',
      },
    );
  }
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    const requestId = error.requestID ?? undefined;
    const forced = error.headers?.get('x-should-retry');
    const retryable = forced === 'true' ? true : forced === 'false' ? false : isRetryableStatus(status);
    return new LlmError(
      scrub(`LLM endpoint ${context.baseUrl} answered ${status} ${serverWords(error)}${hintForStatus(status)}`),
      {
        status,
        retryable,
        requestId,
        fault: status === 429 ? 'rate_limited' : retryable ? 'server_error' : undefined,
        retryAfterMs: error.headers ? retryAfterMsOf(error.headers) : undefined,
      },
    );
  }
  const cut = causeOfType(error, ReplyBodyCutError);
  if (cut) {
    return new LlmError(scrub(`LLM endpoint ${context.baseUrl} sent a malformed response (${cut.message}).`), {
      retryable: true,
      fault: 'truncated_body',
    });
  }
  const code = errorCodeOf(error);
  if (error instanceof APIConnectionError || code) {
    if (code && UNREACHABLE_CODES.has(code)) {
      return new EndpointUnreachableError(
        `Cannot reach the LLM endpoint at ${context.baseUrl} (${code}). Is the server running? Check --base-url or OPENAI_BASE_URL.`,
        { retryable: false },
      );
    }
    const detail = code ?? innermostMessage(error);
    return new LlmError(scrub(`Connection to the LLM endpoint at ${context.baseUrl} failed (${detail}).`), {
      retryable: true,
      fault: 'connection_reset',
    });
  }
  return new LlmError(scrub(`LLM request to ${context.baseUrl} failed: ${innermostMessage(error)}`), {
    retryable: false,
  });
}

/** Status codes worth retrying (the openai SDK's list): timeout, conflict, rate limit, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait a reply asks for, in ms: `retry-after-ms` first, then `retry-after` (seconds or an HTTP date). */
export function retryAfterMsOf(headers: Headers): number | undefined {
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const header = headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Replaces every occurrence of `secret` in `text` (secrets shorter than 4 chars are not real keys). */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

/** The server's own words: the SDK message without its status prefix, at most 300 characters. */
function serverWords(error: APIError): string {
  const text = error.message
    .replace(new RegExp(`^${error.status}\\s*`), '')
    .trim()
    .replace(/\s+/g, ' ');
  if (!text) return 'status code (no body)';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function hintForStatus(status: number): string {
  if (status === 401 || status === 403) return ' (check OPENAI_API_KEY).';
  if (status === 404) return ' (check the model name and --base-url; it usually ends with /v1).';
  if (status === 429) return ' (rate limited; lower --concurrency or wait).';
  return '.';
}

/** The first `code` (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...) along the `cause` chain. */
function errorCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    if (code === 'UND_ERR_SOCKET') return 'ECONNRESET';
  }
  return undefined;
}

function causeOfType<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    if (current instanceof type) return current;
  }
  return undefined;
}

function innermostMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; current instanceof Error && current.cause instanceof Error && depth < 6; depth++)
    current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
