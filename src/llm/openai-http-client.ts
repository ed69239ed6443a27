import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ConfigError, type LlmError } from './errors.ts';
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
  | { ok: true; status: number; headers: IncomingHttpHeaders; text: string }
  | { ok: false; failure: HttpFailure; headers?: IncomingHttpHeaders };

/**
 * A small JSON-over-HTTP client for OpenAI-compatible endpoints: one node:http(s) request per
 * attempt on a keep-alive agent, the openai SDK's retry policy (status list, `x-should-retry`,
 * 0.5 s · 2ⁿ backoff capped at 8 s with jitter, `Retry-After` honoured up to a cap), and every
 * failure mapped to an `LlmError` by `mapHttpFailure`. persona-forge's hot path uses this instead
 * of the openai SDK: the SDK plus a `fetch` cost 0.6–0.7 ms of CPU per call against 0.26 ms for
 * this client at the same request rate (bench/README.md, "Why not the openai SDK").
 */
export class OpenAiHttpClient {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly headers: Record<string, string>;
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
    this.transport = this.url.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, scheduling: 'lifo' });
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'persona-forge',
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
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
    const payload = Buffer.from(JSON.stringify(body));
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

  /** Destroys the keep-alive sockets. Idempotent; later requests open new ones. */
  close(): void {
    this.agent.destroy();
  }

  private error(failure: HttpFailure): LlmError {
    return mapHttpFailure(failure, this.errorContext);
  }

  /** One HTTP request; never rejects. */
  private attempt(path: string, payload: Buffer, signal: AbortSignal | undefined): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const finish = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!attempt.ok) request.destroy();
        resolve(attempt);
      };
      const onAbort = () => finish({ ok: false, failure: { kind: 'aborted' } });
      const request = this.transport.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.startsWith('[') ? this.url.hostname.slice(1, -1) : this.url.hostname,
          port: this.url.port || undefined,
          path: `${this.url.pathname}${path}${this.url.search}`,
          method: 'POST',
          headers: { ...this.headers, 'content-length': String(payload.length) },
          agent: this.agent,
          ...(this.url.username || this.url.password
            ? { auth: `${decodeURIComponent(this.url.username)}:${decodeURIComponent(this.url.password)}` }
            : {}),
        },
        (incoming) => {
          const body = decode(incoming);
          const chunks: Buffer[] = [];
          const cutOff = (): Attempt => ({
            ok: false,
            failure: { kind: 'malformed', detail: 'the reply body was cut off', requestId: requestIdOf(incoming.headers) },
            headers: incoming.headers,
          });
          body.on('data', (chunk: Buffer) => chunks.push(chunk));
          body.once('error', () => finish(cutOff()));
          if (body !== incoming) incoming.once('error', () => finish(cutOff()));
          incoming.once('close', () => {
            if (!incoming.complete) finish(cutOff());
          });
          body.once('end', () =>
            finish({
              ok: true,
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              text: chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      request.once('error', (error) => finish({ ok: false, failure: { kind: 'connection', error } }));
      const timer = setTimeout(() => finish({ ok: false, failure: { kind: 'timeout' } }), this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      request.end(payload);
    });
  }
}

/** The SDK's rule: `x-should-retry` decides when present; else retry transport failures and 408/409/429/5xx. */
function shouldRetry(failure: HttpFailure, headers: IncomingHttpHeaders | undefined): boolean {
  if (failure.kind === 'aborted') return false;
  const forced = headers?.['x-should-retry'];
  if (forced === 'true') return true;
  if (forced === 'false') return false;
  return failure.kind === 'status' ? isRetryableStatus(failure.status) : true;
}

function requestIdOf(headers: IncomingHttpHeaders): string | undefined {
  const id = headers['x-request-id'];
  return typeof id === 'string' ? id : undefined;
}

/** The reply body, decoded when the server compressed it (we never ask it to). */
function decode(incoming: http.IncomingMessage): Readable {
  switch ((incoming.headers['content-encoding'] ?? '').toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return incoming.pipe(createGunzip());
    case 'deflate':
      return incoming.pipe(createInflate());
    case 'br':
      return incoming.pipe(createBrotliDecompress());
    default:
      return incoming;
  }
}
