import type { RunConfig } from '../schemas/run-config.ts';
import { endpointIdentity } from './rate-limits.ts';

/** The base URL used when `llm.base_url` is not set. */
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Whether the run talks to an OpenAI-compatible endpoint: an explicit `provider: openai`, or
 * `auto` with a base URL and no local model path. Otherwise it runs the embedded local model.
 */
export function usesOpenAiEndpoint(llm: RunConfig['llm']): boolean {
  return (
    llm.provider === 'openai' || (llm.provider === 'auto' && llm.base_url !== undefined && llm.model_path === undefined)
  );
}

/**
 * The identity under which processes share the limits of the run's endpoint (`endpointIdentity`
 * of its base URL), or undefined for a local model, whose limits are its own machine's.
 */
export function sharedEndpointOf(llm: RunConfig['llm']): string | undefined {
  return usesOpenAiEndpoint(llm) ? endpointIdentity(llm.base_url ?? DEFAULT_OPENAI_BASE_URL) : undefined;
}
