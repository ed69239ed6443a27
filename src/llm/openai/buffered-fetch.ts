import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { request, type Dispatcher } from 'undici';

/** Thrown (inside the SDK's connection error) when the connection broke while the reply body was read. */
export class ReplyBodyCutError extends Error {
  override name = 'ReplyBodyCutError';
  readonly code = 'PF_REPLY_BODY_CUT';
}

/**
 * A `fetch` for the openai SDK built on undici's `request` on `dispatcher`, with the reply body
 * read in full before the `Response` is returned. persona-forge never streams replies, and
 * WHATWG `fetch` with its body streams cost ~1.3 ms more CPU per request than `request` in a
 * paced loop (bench/RESULTS.md): this keeps the SDK (routes, error classes, multipart uploads)
 * and undici (connections, proxies, TLS) and drops that cost. A body cut off mid-way rejects with
 * `ReplyBodyCutError`, so it is told apart from a connection that failed before any reply.
 */
export function createBufferedFetch(dispatcher: Dispatcher): typeof globalThis.fetch {
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const requestHeaders = headerRecord(init.headers);
    let body = init.body;
    if (body instanceof FormData) {
      // The SDK's file uploads (`files.create`) build Node's global FormData, which undici's own
      // (newer) `request` does not recognise as one: Node's Response encodes it (multipart, with
      // its boundary in the content type) and the bytes go out on this dispatcher like any body.
      const encoded = new Response(body);
      requestHeaders['content-type'] = encoded.headers.get('content-type')!;
      body = new Uint8Array(await encoded.arrayBuffer());
    }
    const requestBody: unknown =
      body === undefined || body === null
        ? null
        : typeof body === 'string' || body instanceof Uint8Array
          ? body
          : body instanceof URLSearchParams
            ? body.toString()
            : body instanceof ArrayBuffer
              ? new Uint8Array(body)
              : body instanceof Blob
                ? new Uint8Array(await body.arrayBuffer())
                : Readable.fromWeb(body as WebReadableStream);
    const {
      statusCode,
      headers,
      body: replyBody,
    } = await request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: requestHeaders,
      body: requestBody as Dispatcher.RequestOptions['body'],
      signal: init.signal ?? undefined,
      dispatcher,
    });
    let buffer: ArrayBuffer;
    try {
      buffer = await replyBody.arrayBuffer();
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ReplyBodyCutError(`the reply body was cut off (${(error as Error).message})`, { cause: error });
    }
    const replyHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) replyHeaders.append(name, item);
    }
    const empty = statusCode === 204 || statusCode === 205 || statusCode === 304;
    return new Response(empty ? null : buffer, { status: statusCode, headers: replyHeaders });
  };
}

/** The request headers as one record (the SDK passes a `Headers` object; undici reads an array as flat name, value, …). */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers.map(([name, value]) => [name, value]));
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));
}
