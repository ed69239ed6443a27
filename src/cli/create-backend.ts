import type { LlmBackend } from '../llm/llm-backend.ts';
import { OpenAiCompatibleBackend } from '../llm/openai/openai-compatible-backend.ts';
import { limitConcurrency } from '../llm/limit-concurrency.ts';
import type { RunConfig } from '../schemas/run-config.ts';

export interface CreatedBackend {
  /** The backend to use (concurrency-limited). */
  backend: LlmBackend;
  /** Disposes the underlying backend (model memory, sockets). */
  dispose(): Promise<void>;
  /** What was chosen and why, for the log. */
  description: string;
}

/**
 * Chooses the LLM backend: an explicit provider or `--base-url`/`--model-path` first, then
 * `OPENAI_BASE_URL` (already merged into `config.llm.base_url` with lower precedence than flags),
 * then the embedded local model.
 */
export async function createBackend(config: RunConfig, env: Record<string, string | undefined>): Promise<CreatedBackend> {
  const { llm } = config;
  const useOpenAi = llm.provider === 'openai' || (llm.provider === 'auto' && llm.base_url !== undefined && llm.model_path === undefined);
  if (useOpenAi) {
    const inner = new OpenAiCompatibleBackend({
      baseUrl: llm.base_url ?? 'https://api.openai.com/v1',
      apiKey: llm.api_key,
      generatorModel: llm.model,
      criticModel: llm.critic_model ?? llm.model,
      timeoutMs: llm.timeout_ms,
      maxRetries: llm.max_retries,
      samplesMode: llm.samples_mode,
      structuredMode: llm.structured_mode,
    });
    return {
      backend: limitConcurrency(inner, llm.max_in_flight),
      dispose: () => inner.dispose(),
      description: `OpenAI-compatible endpoint ${new URL(llm.base_url ?? 'https://api.openai.com/v1').origin} (generator ${llm.model}, critic ${llm.critic_model ?? llm.model})`,
    };
  }
  // Loaded lazily: API-only installs may not have node-llama-cpp at all.
  const { createLocalBackend, defaultCacheDir } = await import('../llm/llama/create-local-backend.ts');
  const { createDownloadProgressRenderer } = await import('./commands/models-command.ts');
  const progress = createDownloadProgressRenderer(process.stderr);
  const inner = await createLocalBackend({
    modelPath: llm.model_path,
    cacheDir: defaultCacheDir(env),
    threads: llm.threads,
    contextSize: llm.context_size,
    parallelSequences: Math.min(llm.max_in_flight, 4),
    onProgress: progress.update,
  });
  progress.finish();
  return {
    backend: limitConcurrency(inner, llm.max_in_flight),
    dispose: () => inner.dispose(),
    description: `local llama.cpp model (${inner.modelFor('generator')})`,
  };
}
