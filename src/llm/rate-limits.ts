import { ConfigError } from '../errors.ts';

/** Limits of one LLM endpoint, honoured by every process that shares them through Redis. */
export interface RateLimits {
  /** LLM requests in flight at once. @defaultValue the run config's `llm.max_in_flight` */
  maxInFlight?: number;
  /** Requests started per minute (token bucket, bursts up to one minute's worth). @defaultValue unlimited */
  requestsPerMinute?: number;
  /**
   * Tokens per minute: each request reserves its estimated prompt tokens plus
   * `maxOutputTokens × samples`, then is charged its reported usage. @defaultValue unlimited
   */
  tokensPerMinute?: number;
}

/** Environment variables read by `rateLimitsFromEnv`. */
export const RATE_LIMIT_ENV = {
  maxInFlight: 'PF_MAX_IN_FLIGHT',
  requestsPerMinute: 'PF_REQUESTS_PER_MINUTE',
  tokensPerMinute: 'PF_TOKENS_PER_MINUTE',
} as const;

/** Reads `PF_MAX_IN_FLIGHT`, `PF_REQUESTS_PER_MINUTE`, `PF_TOKENS_PER_MINUTE` (absent = not set). */
export function rateLimitsFromEnv(env: Record<string, string | undefined>): RateLimits {
  const limits: RateLimits = {};
  for (const [field, name] of Object.entries(RATE_LIMIT_ENV) as Array<[keyof RateLimits, string]>) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigError(`Expected ${name} to be a positive integer, got "${raw}".`);
    }
    limits[field] = value;
  }
  return limits;
}

/**
 * The identity under which an OpenAI-compatible endpoint's limits are shared: origin and path of
 * the base URL, without credentials, query or trailing slash (`http://Host:80/v1/` and
 * `http://host/v1` are one endpoint).
 */
export function endpointIdentity(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
