import type { LlmBackend } from '../llm/llm-backend.ts';
import { withContextLength } from '../llm/with-context-length.ts';
import { OpenAiCompatibleBackend } from '../llm/openai/openai-compatible-backend.ts';
import { proxySettingsFromEnv } from '../llm/openai/openai-connection.ts';
import { createBatchingConnection, formatBatchProgress } from '../llm/batch/create-batching-connection.ts';
import { buildLlmStack } from '../llm/build-llm-stack.ts';
import { faultToleranceFor } from '../llm/fault-tolerance.ts';
import { DEFAULT_OPENAI_BASE_URL, sharedEndpointOf, usesOpenAiEndpoint } from '../llm/shared-endpoint.ts';
import type { RunConfig } from '../schemas/run-config.ts';

export interface CreatedBackend {
  /**
   * The adapter alone, for whoever builds its own LLM stack around it with its stores:
   * `runPipeline` (response cache in the run directory or Redis) and the BullMQ worker.
   */
  adapter: LlmBackend;
  /** The adapter in an LLM stack without stores (`llm.max_in_flight` calls at once), for direct use. */
  backend: LlmBackend;
  /** Identity of the endpoint whose limits processes share; undefined for a local model. */
  sharedEndpoint: string | undefined;
  /** Disposes the adapter (model memory, sockets). */
  dispose(): Promise<void>;
  /** What was chosen and why, for the log. */
  description: string;
}

/**
 * Chooses the LLM adapter: an explicit provider or `--base-url`/`--model-path` first, then
 * `OPENAI_BASE_URL` (already merged into `config.llm.base_url` with lower precedence than flags),
 * then the embedded local model.
 */
export async function createBackend(
  config: RunConfig,
  env: Record<string, string | undefined>,
  /** `signal`: the run's stop signal; with `--batch`, requests stop waiting for batches once it aborts. */
  options: { signal?: AbortSignal } = {},
): Promise<CreatedBackend> {
  const { llm } = config;
  const created = usesOpenAiEndpoint(llm)
    ? createOpenAiAdapter(config, env, options.signal)
    : await createLocalAdapter(config, env);
  return {
    ...created,
    backend: buildLlmStack({
      adapter: created.adapter,
      maxInFlight: llm.max_in_flight,
      faultTolerance: faultToleranceFor(llm, created.adapter.kind),
    }),
    sharedEndpoint: sharedEndpointOf(llm),
    dispose: () => created.adapter.dispose(),
  };
}

function createOpenAiAdapter(
  config: RunConfig,
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
): { adapter: LlmBackend; description: string } {
  const { llm } = config;
  const baseUrl = llm.base_url ?? DEFAULT_OPENAI_BASE_URL;
  const adapter = new OpenAiCompatibleBackend({
    baseUrl,
    apiKey: llm.api_key,
    generatorModel: llm.model,
    criticModel: llm.critic_model ?? llm.model,
    timeoutMs: llm.timeout_ms,
    proxy: proxySettingsFromEnv(env),
    samplesMode: llm.samples_mode,
    structuredMode: llm.structured_mode,
    // --batch: chat completions go through the Batch API; progress lines while a batch is pending.
    ...(llm.batch && {
      connection: createBatchingConnection(config, {
        baseUrl,
        proxy: proxySettingsFromEnv(env),
        // In a terminal the line first clears the live progress line (redrawn on its next update).
        onProgress: (progress) =>
          process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}${formatBatchProgress(progress)}\n`),
        signal,
      }),
    }),
  });
  return {
    // `llm.context_length`: prompts are fitted to the endpoint's context (project's token estimate).
    adapter: withContextLength(adapter, llm.context_length),
    description: `OpenAI-compatible endpoint ${new URL(baseUrl).origin} (generator ${llm.model}, critic ${llm.critic_model ?? llm.model})`,
  };
}

async function createLocalAdapter(
  config: RunConfig,
  env: Record<string, string | undefined>,
): Promise<{ adapter: LlmBackend; description: string }> {
  const { llm } = config;
  // Loaded lazily: API-only installs may not have node-llama-cpp at all.
  const { createLocalBackend, defaultCacheDir } = await import('../llm/llama/create-local-backend.ts');
  const { createDownloadProgressRenderer } = await import('./commands/models-command.ts');
  const progress = createDownloadProgressRenderer(process.stderr);
  const adapter = await createLocalBackend({
    modelPath: llm.model_path,
    cacheDir: defaultCacheDir(env),
    threads: llm.threads,
    contextSize: llm.context_size,
    parallelSequences: Math.min(llm.max_in_flight, 4),
    onProgress: progress.update,
  });
  progress.finish();
  return { adapter, description: `local llama.cpp model (${adapter.modelFor('generator')})` };
}
