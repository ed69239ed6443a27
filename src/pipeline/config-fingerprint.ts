import type { RunConfig } from '../schemas/run-config.ts';
import { hashText } from '../util/hash-text.ts';

/**
 * Hash of everything that decides what a run produces. Settings that only change how fast it
 * runs (concurrency, timeouts, retries), where it goes, secrets and the budget are left out,
 * so `--resume` accepts them changed.
 */
export function configFingerprint(config: RunConfig): string {
  const {
    out: _out,
    run_id: _runId,
    concurrency: _concurrency,
    budget: _budget,
    prices: _prices,
    llm,
    ...rest
  } = config;
  const { api_key: _apiKey, timeout_ms: _timeout, max_retries: _retries, threads: _threads, ...llmRest } = llm;
  return hashText(stableStringify({ ...rest, llm: llmRest }), 16);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
