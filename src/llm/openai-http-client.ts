import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { ConfigError, type LlmError } from '../errors.ts';
import type { HttpExchangeResult, HttpHeaders } from './http1-connection.ts';
import { Http1ConnectionPool } from './http1-connection-pool.ts';
import { isRetryableStatus, mapHttpFailure, type HttpErrorContext, type HttpFailure } from './http-failure.ts';
import { retryDelayMs } from './retry-delay-ms.ts';

/** Options of `OpenAiHttpClient`. Explicit values only: it never reads `process.env`. */
export interface OpenAiHttpClientOptions {
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1` or `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; never appears in errors. @defaultValue none (no header) */
  apiKey?: string;
  /** Per-attempt timeout in milliseconds (each retry gets a fresh one). @defaultValue 120000 */
  timeoutMs?: number;
  /**
   * Retries of one request after a connection error, a timeout, a 408/409/429/5xx (or a reply with
   * `x-should-retry: true`), or a 2xx whose body is cut off or not JSON. 0 disables. @defaultValue 2
   */
  maxRetries?: number;
  /** Longest `Retry-After` honoured, in milliseconds; longer waits are cut to this. @defaultValue 60000 */
  maxRetryAfterMs?: number;
  /** Jitter source of the backoff (tests). @defaultValue Math.random */
  random?: () => number;
}

/** A successful reply: the parsed JSON body and the server's request id (`x-request-id`). */
export interface OpenAiHttpReply {
  body: unknown;
  requestId: string | undefined;
}

type Attempt =
  | { ok: true; status: number; headers: HttpHeaders; text: string }
  | { ok: false; failure: HttpFailure; headers?: HttpHeaders };

/**
 * A small JSON-over-HTTP client for OpenAI-compatible endpoints: one HTTP/1.1 exchange per attempt
 * on a pooled keep-alive connection (`Http1ConnectionPool`), the openai SDK's retry policy (status
 * list, `x-should-retry`, 0.5 s · 2ⁿ backoff capped at 8 s with jitter, `Retry-After` honoured up
 * to a cap), and every failure mapped to an `LlmError` by `mapHttpFailure`. persona-forge's hot
 * path uses this instead of the openai SDK or node:http: at the same request rate the SDK plus a
 * `fetch` cost 0.6–0.7 ms of CPU per call, node:http 0.22–0.29 ms, undici 0.21–0.27 ms, and these
 * pooled sockets ~0.12 ms (bench/README.md, "Where the CPU per call goes").
 */
export class OpenAiHttpClient {
  private readonly url: URL;
  private readonly pool: Http1ConnectionPool;
  /** The header lines every request sends, CRLF-terminated (all but content-length). */
  private readonly headerLines: string;
  private readonly headPrefixes = new Map<string, string>();
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly random: () => number;
  private readonly errorContext: HttpErrorContext;

  constructor(options: OpenAiHttpClientOptions) {
    if (!URL.canParse(options.baseUrl ?? '')) {
      throw new ConfigError('Invalid OpenAI-compatible endpoint', [`baseUrl: expected an absolute URL, got "${options.baseUrl}"`]);
    }
    this.url = new URL(options.baseUrl.replace(/\/+$/, ''));
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new ConfigError('Invalid OpenAI-compatible endpoint', [`baseUrl: expected http:// or https://, got "${this.url.protocol}"`]);
    }
    this.pool = new Http1ConnectionPool(this.url);
    this.headerLines = headerLinesOf(this.url, options.apiKey);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.random = options.random ?? Math.random;
    // The base URL as written by the user minus any credentials, for messages.
    const shown = new URL(this.url);
    shown.username = '';
    shown.password = '';
    this.errorContext = { baseUrl: shown.href.replace(/\/$/, ''), apiKey: options.apiKey, timeoutMs: this.timeoutMs };
  }

  /** The base URL as named in error messages (no credentials). */
  get baseUrl(): string {
    return this.errorContext.baseUrl;
  }

  /**
   * POSTs `body` as JSON to `path` (relative to the base URL, e.g. `/chat/completions`), with
   * retries, and returns the parsed reply. Rejects with an `LlmError` (never with the API key in it).
   */
  async postJson(path: string, body: unknown, signal?: AbortSignal): Promise<OpenAiHttpReply> {
    const payload = JSON.stringify(body);
    for (let retries = 0; ; retries++) {
      if (signal?.aborted) throw this.error({ kind: 'aborted' });
      const attempt = await this.attempt(path, payload, signal);
      let failure: HttpFailure;
      if (attempt.ok && attempt.status >= 200 && attempt.status < 300) {
        const requestId = requestIdOf(attempt.headers);
        try {
          return { body: JSON.parse(attempt.text), requestId };
        } catch (error) {
          failure = { kind: 'malformed', detail: `not JSON: ${(error as Error).message}`, requestId };
        }
      } else if (attempt.ok) {
        failure = { kind: 'status', status: attempt.status, body: attempt.text, requestId: requestIdOf(attempt.headers) };
      } else {
        failure = attempt.failure;
      }
      if (retries >= this.maxRetries || !shouldRetry(failure, attempt.headers)) throw this.error(failure);
      try {
        await sleep(retryDelayMs(retries, attempt.headers, this.maxRetryAfterMs, this.random), undefined, { signal });
      } catch {
        throw this.error({ kind: 'aborted' });
      }
    }
  }

  /** Destroys the keep-alive connections. Idempotent; later requests open new ones. */
  close(): void {
    this.pool.close();
  }

  private error(failure: HttpFailure): LlmError {
    return mapHttpFailure(failure, this.errorContext);
  }

  /** One HTTP request on a pooled connection; never rejects. */
  private attempt(path: string, payload: string, signal: AbortSignal | undefined): Promise<Attempt> {
    const connection = this.pool.acquire();
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const finish = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // A timeout or abort leaves the exchange half done: that connection cannot carry another.
        if (!attempt.ok) connection.destroy();
        resolve(attempt);
      };
      const onAbort = () => finish({ ok: false, failure: { kind: 'aborted' } });
      const timer = setTimeout(() => finish({ ok: false, failure: { kind: 'timeout' } }), this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      void connection.exchange(this.requestHead(path, Buffer.byteLength(payload)) + payload).then((result) => finish(attemptOf(result)));
    });
  }

  /** Request line and headers of a POST to `path` with a JSON body of `length` bytes. */
  private requestHead(path: string, length: number): string {
    let prefix = this.headPrefixes.get(path);
    if (prefix === undefined) {
      prefix = `POST ${this.url.pathname}${path}${this.url.search} HTTP/1.1\r\n${this.headerLines}`;
      this.headPrefixes.set(path, prefix);
    }
    return `${prefix}content-length: ${length}\r\n\r\n`;
  }
}

/**
 * The fixed request headers: `host`, JSON in and out, our user agent, and the API key as a bearer
 * token (else the URL's credentials as Basic auth). A key with a line break or control character
 * would corrupt the request, so it is refused up front (without repeating it).
 */
function headerLinesOf(url: URL, apiKey: string | undefined): string {
  let authorization: string | undefined;
  if (apiKey) {
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(apiKey)) {
      throw new ConfigError('Invalid API key', [
        'llm.api_key: contains a line break or control character; check OPENAI_API_KEY (or llm.api_key) for stray characters',
      ]);
    }
    authorization = `Bearer ${apiKey}`;
  } else if (url.username || url.password) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return (
    `host: ${url.host}\r\n` +
    'content-type: application/json\r\n' +
    'accept: application/json\r\n' +
    'user-agent: persona-forge\r\n' +
    'connection: keep-alive\r\n' +
    (authorization ? `authorization: ${authorization}\r\n` : '')
  );
}

/** A finished exchange as a client attempt: the body decoded, or the failure named. */
function attemptOf(result: HttpExchangeResult): Attempt {
  if (result.kind === 'connection') return { ok: false, failure: { kind: 'connection', error: result.error } };
  if (result.kind === 'broken') {
    const requestId = result.headers ? requestIdOf(result.headers) : undefined;
    return { ok: false, failure: { kind: 'malformed', detail: result.detail, requestId }, headers: result.headers };
  }
  try {
    return { ok: true, status: result.status, headers: result.headers, text: decode(result.body, result.headers).toString('utf8') };
  } catch (error) {
    const detail = `the reply body could not be decompressed (${(error as Error).message})`;
    return { ok: false, failure: { kind: 'malformed', detail, requestId: requestIdOf(result.headers) }, headers: result.headers };
  }
}

/** The SDK's rule: `x-should-retry` decides when present; else retry transport failures and 408/409/429/5xx. */
function shouldRetry(failure: HttpFailure, headers: HttpHeaders | undefined): boolean {
  if (failure.kind === 'aborted') return false;
  const forced = headers?.['x-should-retry'];
  if (forced === 'true') return true;
  if (forced === 'false') return false;
  return failure.kind === 'status' ? isRetryableStatus(failure.status) : true;
}

function requestIdOf(headers: HttpHeaders): string | undefined {
  const id = headers['x-request-id'];
  return typeof id === 'string' ? id : undefined;
}

/** The reply body, decoded when the server compressed it (we never ask it to). */
function decode(body: Buffer, headers: HttpHeaders): Buffer {
  switch ((headers['content-encoding'] ?? '').toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
}
