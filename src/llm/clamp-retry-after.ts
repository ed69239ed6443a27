/**
 * Wraps `fetch` so that a `Retry-After` / `retry-after-ms` longer than `maxRetryAfterMs` is cut
 * to that cap. openai@6 sleeps for whatever the server asks, however long, before retrying.
 */
export function clampRetryAfter(maxRetryAfterMs: number, baseFetch: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await baseFetch(input, init);
    if (response.ok) return response;
    const askedMs = retryAfterMs(response.headers);
    if (askedMs === undefined || askedMs <= maxRetryAfterMs) return response;
    const headers = new Headers(response.headers);
    headers.delete('retry-after');
    headers.set('retry-after-ms', String(maxRetryAfterMs));
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** The wait a response asks for, in ms (`retry-after-ms` first, then `retry-after` seconds or date). */
function retryAfterMs(headers: Headers): number | undefined {
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds)) return milliseconds;
  const header = headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : date - Date.now();
}
