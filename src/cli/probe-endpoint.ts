import { EndpointUnreachableError } from '../errors.ts';
import { isAuthFailure } from './is-auth-failure.ts';
import { OpenAiConnection, proxySettingsFromEnv } from '../llm/openai/openai-connection.ts';
import { mapOpenAiError } from '../llm/openai/map-openai-error.ts';
import { DEFAULT_OPENAI_BASE_URL } from '../llm/shared-endpoint.ts';
import { publishedContextLength } from '../llm/published-context-length.ts';
import type { RunConfig } from '../schemas/run-config.ts';

/** What the probe learned about the endpoint. */
export interface EndpointProbe {
  /** Context length (prompt + reply tokens) the models' `/models` entries publish; undefined when none. */
  contextTokens: number | undefined;
}

/** Longest wait for the probe's answer, in ms: a slow endpoint is not an error here. @defaultValue 15000 */
const PROBE_TIMEOUT_MS = 15_000;

/**
 * Asks an OpenAI-compatible endpoint `GET /models` (free: no tokens) before a run creates anything,
 * so what can only be fixed by the user fails first with exit 2: an endpoint that cannot be reached
 * (`EndpointUnreachableError`) or that refuses the key (an `LlmError` with status 401 or 403).
 * Any other answer — a list, 404 (servers without `/models`), 5xx, a timeout — lets the run start;
 * its own retry policy deals with transient faults. A list tells the context length its entries
 * for `llm.model` and `llm.critic_model` publish (`publishedContextLength`).
 */
export async function probeEndpoint(
  llm: RunConfig['llm'],
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
): Promise<EndpointProbe> {
  const connection = new OpenAiConnection({
    baseUrl: llm.base_url ?? DEFAULT_OPENAI_BASE_URL,
    apiKey: llm.api_key,
    timeoutMs: Math.min(llm.timeout_ms, PROBE_TIMEOUT_MS),
    proxy: proxySettingsFromEnv(env),
  });
  const timeout = AbortSignal.timeout(connection.timeoutMs);
  try {
    const body: unknown = await connection.client.get('/models', {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      maxRetries: 0,
    });
    return { contextTokens: publishedContextLength(body, [llm.model, llm.critic_model ?? llm.model]) };
  } catch (error) {
    const mapped = mapOpenAiError(error, {
      baseUrl: connection.baseUrl,
      apiKey: llm.api_key,
      timeoutMs: connection.timeoutMs,
      timedOut: timeout.aborted && !signal?.aborted,
      aborted: signal?.aborted ?? false,
      phase: 'request',
    });
    if (signal?.aborted) throw signal.reason;
    if (mapped instanceof EndpointUnreachableError || isAuthFailure(mapped)) throw mapped;
    return { contextTokens: undefined };
  } finally {
    await connection.close();
  }
}
