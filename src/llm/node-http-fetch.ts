import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** A `fetch` over node:http(s) with a keep-alive agent, plus `close()` to release its sockets. */
export interface NodeHttpFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Destroys the keep-alive sockets. Idempotent. */
  close(): void;
}

export interface NodeHttpFetchOptions {
  /** Sockets per origin at most. @defaultValue Infinity (as Node's global fetch) */
  maxSockets?: number;
  /** Used for what this transport does not handle (non-HTTP URLs, streamed or form bodies). @defaultValue globalThis.fetch */
  fallback?: typeof fetch;
}

/**
 * A lean `fetch` for the openai SDK: one node:http(s) request per call on a keep-alive agent, the
 * reply body read into one buffer and handed back as a `Response` (a 2xx one reads that buffer
 * directly in `json()`/`text()`). Node's global fetch (undici: WHATWG streams, request cloning)
 * cost 2–3 times the CPU per request, about a quarter of persona-forge's own CPU per LLM call
 * in `bench/` (see bench/RESULTS.md).
 *
 * Semantics the SDK relies on are kept: `signal` aborts (an `AbortError`), connection failures
 * reject with the socket error (its `code`, e.g. `ECONNREFUSED`, is what `mapOpenAiError` reads),
 * a body cut off mid-way rejects (`ECONNRESET`, retried like any connection error), and
 * gzip/deflate/br bodies are decoded. String, `Uint8Array` and `ArrayBuffer` bodies are sent as
 * they are; anything else goes to `fallback`.
 */
export function createNodeHttpFetch(options: NodeHttpFetchOptions = {}): NodeHttpFetch {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? Infinity, scheduling: 'lifo' as const };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  const fallback = options.fallback ?? globalThis.fetch;

  const nodeFetch = ((input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL)) return fallback(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    const body = toBuffer(init.body);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || body === null) return fallback(input, init);

    const headers: Record<string, string> = {};
    if (init.headers) new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (body !== undefined) headers['content-length'] = String(body.length);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    return new Promise<Response>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).request(
        {
          protocol: url.protocol,
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: init.method ?? 'GET',
          headers,
          agent: agents[url.protocol as 'http:' | 'https:'],
          ...(url.username || url.password
            ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }
            : {}),
        },
        (incoming) => {
          const decoded = decode(incoming);
          const chunks: Buffer[] = [];
          decoded.on('data', (chunk: Buffer) => chunks.push(chunk));
          decoded.once('error', fail);
          if (decoded !== incoming) incoming.once('error', fail);
          incoming.once('aborted', () =>
            fail(Object.assign(new Error('response body was cut off'), { code: 'ECONNRESET' })),
          );
          decoded.once('end', () => {
            signal?.removeEventListener('abort', onAbort);
            if (settled) return;
            settled = true;
            const responseHeaders = new Headers();
            const raw = incoming.rawHeaders;
            for (let index = 0; index < raw.length; index += 2) {
              // A decoded body no longer has the sent encoding and length.
              if (decoded !== incoming && /^content-(encoding|length)$/i.test(raw[index])) continue;
              responseHeaders.append(raw[index], raw[index + 1]);
            }
            const status = incoming.statusCode ?? 0;
            const nullBody = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
            const responseInit = { status, statusText: incoming.statusMessage, headers: responseHeaders };
            const bytes = Buffer.concat(chunks);
            // Successful replies skip WHATWG streams (the SDK reads them with json()); errors keep a
            // standard body, which the SDK and `clampRetryAfter` pass on.
            resolve(
              nullBody
                ? new Response(null, responseInit)
                : status >= 200 && status < 300
                  ? bufferedResponse(bytes, responseInit)
                  : new Response(bytes, responseInit),
            );
          });
        },
      );
      let settled = false;
      function fail(error: Error) {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        request.destroy();
        reject(error);
      }
      function onAbort() {
        fail(abortError(signal!));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('error', fail);
      request.end(body);
    });
  }) as NodeHttpFetch;
  nodeFetch.close = () => {
    agents['http:'].destroy();
    agents['https:'].destroy();
  };
  return nodeFetch;
}

/**
 * A `Response` whose body is already in memory: `json()`, `text()` and `arrayBuffer()` read the
 * buffer directly instead of through a WHATWG stream (several times cheaper per reply). Its
 * `body` stream is null; read it with those methods.
 */
function bufferedResponse(bytes: Buffer, init: ResponseInit): Response {
  const response = new Response(null, init);
  let used = false;
  const take = () => {
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return bytes;
  };
  return Object.defineProperties(response, {
    bodyUsed: { get: () => used },
    text: { value: async () => take().toString('utf8') },
    json: { value: async () => JSON.parse(take().toString('utf8')) },
    arrayBuffer: {
      value: async () => {
        const taken = take();
        return taken.buffer.slice(taken.byteOffset, taken.byteOffset + taken.byteLength);
      },
    },
    clone: {
      value: () => {
        if (used) throw new TypeError('Response.clone: Body has already been consumed.');
        return bufferedResponse(bytes, {
          status: response.status,
          statusText: response.statusText,
          headers: new Headers(response.headers),
        });
      },
    },
  });
}

/** undefined: no body; null: a body this transport does not send (use the fallback). */
function toBuffer(body: RequestInit['body']): Buffer | undefined | null {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return null;
}

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

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}
