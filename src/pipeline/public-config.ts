import type { RunConfig } from '../schemas/run-config.ts';

/** The config as written to `config.json`: secrets removed. */
export function publicConfig(config: RunConfig): RunConfig {
  const { api_key: _apiKey, ...llm } = config.llm;
  return { ...config, llm };
}
