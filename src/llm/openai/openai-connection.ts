import OpenAI from 'openai';
import { EnvHttpProxyAgent } from 'undici';
import { createBufferedFetch } from './buffered-fetch.ts';
import { ConfigError, LlmError } from '../../errors.ts';
import { mapOpenAiError } from './map-openai-error.ts';

/**
 * Proxies for requests to the endpoint, as `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` name them
 * (undici's `EnvHttpProxyAgent` rules: `NO_PROXY` entries are host names or domain suffixes,
 * optionally with `:port`; `*` turns proxying off).
 */
export interface ProxySettings {
  /** Proxy URL for `http://` endpoints. @defaultValue none */
  httpProxy?: string;
  /** Proxy URL for `https://` endpoints. @defaultValue `httpProxy` */
  httpsProxy?: string;
  /** Comma-separated hosts reached directly. @defaultValue none */
  noProxy?: string;
}

/** Reads `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` (or their lower-case forms; lower case wins, as in curl). */
export function proxySettingsFromEnv(env: Record<string, string | undefined>): ProxySettings {
  const read = (name: string) => env[name.toLowerCase()] || env[name] || undefined;
  return { httpProxy: read('HTTP_PROXY'), httpsProxy: read('HTTPS_PROXY'), noProxy: read('NO_PROXY') };
}

export interface OpenAiConnectionOptions {
  /** Base URL including the API prefix; credentials in it (`http://user:pass@host/v1`) become Basic auth when no `apiKey` is given. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; never appears in errors. @defaultValue `'not-needed'` */
  apiKey?: string;
  /** Per-request timeout in milliseconds, from sending to the last byte of the reply. @defaultValue 120000 */
  timeoutMs?: number;
  /**
   * Proxies to use. Absent: undici's `EnvHttpProxyAgent` reads `HTTP_PROXY` / `HTTPS_PROXY` /
   * `NO_PROXY` itself. @defaultValue from the environment
   */
  proxy?: ProxySettings;
}

/** A successful reply: the parsed JSON body and the server's request id (`x-request-id`). */
export interface OpenAiReply {
  body: unknown;
  requestId: string | undefined;
}

/** Placeholder key sent when none is given: local servers (vLLM, llama.cpp, Ollama) ignore it. */
export const PLACEHOLDER_API_KEY = 'not-needed';

/**
 * One OpenAI-compatible endpoint as persona-forge talks to it: the openai SDK with `maxRetries: 0`
 * (retries are decided by `src/llm/retry-policy.ts` alone), sending through undici's `request` on
 * an `EnvHttpProxyAgent` that keeps connections alive between requests and honours the proxy
 * settings, no SDK logging, and nothing read from `OPENAI_*` variables (options are explicit).
 * TLS uses Node's CA store, so `NODE_EXTRA_CA_CERTS` adds private CAs. Each `post` is sent once;
 * a failure is an `LlmError` naming the fault (`mapOpenAiError`).
 */
export class OpenAiConnection {
  /** The SDK client, for routes beyond JSON POSTs (files, batches). */
  readonly client: OpenAI;
  /** The base URL without credentials, as error messages name it. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly dispatcher: EnvHttpProxyAgent;
  private readonly apiKey: string | undefined;
  private closed = false;

  constructor(options: OpenAiConnectionOptions) {
    if (!URL.canParse(options.baseUrl ?? '')) {
      throw new ConfigError('Invalid OpenAI-compatible endpoint', [
        `baseUrl: expected an absolute URL, got "${options.baseUrl}"`,
      ]);
    }
    const url = new URL(options.baseUrl.replace(/\/+$/, ''));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('Invalid OpenAI-compatible endpoint', [
        `baseUrl: expected http:// or https://, got "${url.protocol}"`,
      ]);
    }
    if (options.apiKey && !/^[\t\x20-\x7e\x80-\xff]*$/.test(options.apiKey)) {
      // A line break would corrupt the request headers: refused up front, without repeating the key.
      throw new ConfigError('Invalid API key', [
        'llm.api_key: contains a line break or control character; check OPENAI_API_KEY (or llm.api_key) for stray characters',
      ]);
    }
    // fetch refuses URLs with credentials: they move into an Authorization header.
    const basic =
      url.username || url.password
        ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        : undefined;
    url.username = '';
    url.password = '';
    this.baseUrl = url.href.replace(/\/$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 120_000;

    const proxy = options.proxy;
    this.dispatcher = new EnvHttpProxyAgent({
      // An empty string means "none" to EnvHttpProxyAgent (undefined would make it read the env).
      ...(proxy && {
        httpProxy: proxy.httpProxy ?? '',
        httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
        noProxy: proxy.noProxy ?? '',
      }),
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
    });
    this.client = new OpenAI({
      baseURL: this.baseUrl,
      apiKey: options.apiKey || PLACEHOLDER_API_KEY,
      organization: null,
      project: null,
      webhookSecret: null,
      timeout: this.timeoutMs,
      maxRetries: 0,
      logLevel: 'off',
      // undici's `request` on this dispatcher, the reply read in full (see createBufferedFetch).
      fetch: createBufferedFetch(this.dispatcher),
      defaultHeaders: {
        'user-agent': 'persona-forge',
        ...(basic && !options.apiKey && { authorization: `Basic ${Buffer.from(basic).toString('base64')}` }),
      },
    });
  }

  /**
   * POSTs `body` as JSON to `path` (relative to the base URL, e.g. `/chat/completions`) once and
   * returns the parsed reply. The timeout covers the whole exchange, body included (the SDK's own
   * covers only the wait for the headers). Rejects with an `LlmError`, never with the API key in it.
   */
  async post(path: string, body: unknown, signal?: AbortSignal): Promise<OpenAiReply> {
    // A plain controller, not `AbortSignal.any`/`AbortSignal.timeout`: the SDK adds an 'abort'
    // listener to the signal it is given and never removes it, and Node keeps a composite or
    // timeout signal that has listeners reachable (its `gcPersistentSignals`), so each request
    // leaked ~2 KB (a 200,000-pair BullMQ run: +439 MB per worker). Our own listeners are removed.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, this.timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const context = (phase: 'request' | 'body') => ({
      baseUrl: this.baseUrl,
      apiKey: this.apiKey,
      timeoutMs: this.timeoutMs,
      timedOut: timedOut && !signal?.aborted,
      aborted: signal?.aborted ?? false,
      phase,
    });
    let response: Response;
    let text: string;
    try {
      try {
        response = (await this.client
          .post(path, { body, signal: controller.signal, maxRetries: 0 })
          .asResponse()) as Response;
      } catch (error) {
        throw mapOpenAiError(error, context('request'));
      }
      try {
        text = await response.text();
      } catch (error) {
        throw mapOpenAiError(error, context('body'));
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    try {
      return { body: JSON.parse(text), requestId };
    } catch (error) {
      throw new LlmError(
        `LLM endpoint ${this.baseUrl} sent a malformed response (not JSON: ${(error as Error).message}).`,
        {
          retryable: true,
          requestId,
          fault: 'malformed_body',
        },
      );
    }
  }

  /** Closes the keep-alive connections; requests still in flight are cut. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.destroy();
  }
}
