import type { HttpHeaders } from './http1-connection.ts';

/**
 * How long to wait before retry number `retriesDone + 1`, the openai SDK's policy with one change:
 * the server's `retry-after-ms` / `retry-after` (seconds or an HTTP date) is honoured up to
 * `maxRetryAfterMs` (longer waits are cut to it; the SDK 6.x sleeps for whatever it is told).
 * Without a usable header: 0.5 s · 2ⁿ capped at 8 s, minus up to 25 % jitter.
 */
export function retryDelayMs(
  retriesDone: number,
  headers: HttpHeaders | undefined,
  maxRetryAfterMs: number,
  random: () => number,
): number {
  const asked = headers ? retryAfterMs(headers) : undefined;
  if (asked !== undefined && asked >= 0) return Math.min(asked, maxRetryAfterMs);
  const seconds = Math.min(0.5 * 2 ** retriesDone, 8);
  return seconds * (1 - random() * 0.25) * 1000;
}

/** The wait a reply asks for, in ms (`retry-after-ms` first, then `retry-after` seconds or date). */
function retryAfterMs(headers: HttpHeaders): number | undefined {
  const milliseconds = Number.parseFloat(String(headers['retry-after-ms'] ?? ''));
  if (Number.isFinite(milliseconds)) return milliseconds;
  const header = headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
