import { createLlamaCppBackend } from './create-llama-cpp-backend.ts';
import type { LlamaCppBackend } from './llama-cpp-backend.ts';
import type { ModelDownloadFunction, ModelDownloadProgress } from './download-model-file.ts';
import { resolveModelPath } from './model-cache.ts';
import { DEFAULT_MODEL } from './model-registry.ts';

export { defaultCacheDir } from './model-cache.ts';

/** Options of `createLocalBackend`. */
export interface LocalBackendOptions {
  /** A GGUF file to use as is; wins over `modelReference`. */
  modelPath?: string;
  /** `hf:<user>/<repo>/<file>.gguf[#revision]`, an HTTPS URL or a path. @defaultValue `DEFAULT_MODEL.reference` */
  modelReference?: string;
  /** Cache directory (see `defaultCacheDir`); models live in `<cacheDir>/models`. */
  cacheDir: string;
  /** CPU threads. @defaultValue `defaultLlamaThreads()` */
  threads?: number;
  /** Requests/samples generated at once; pass the run's `concurrency`. @defaultValue 1 */
  parallelSequences?: number;
  /** Tokens per sequence (prompt + reply). @defaultValue 8192 */
  contextSize?: number;
  /** Model name for lineage. @defaultValue the file name without `.gguf` */
  generatorModelName?: string;
  /** Download progress when the model has to be fetched first. */
  onProgress?: (progress: ModelDownloadProgress) => void;
  /** Replaces the HTTPS downloader (tests). */
  download?: ModelDownloadFunction;
  signal?: AbortSignal;
}

/**
 * The embedded local backend in one call: resolves the model (downloading it into the cache when
 * needed) and loads it. Throws `ModelUnavailableError` when the model is missing and cannot be
 * downloaded (CLI exit 2), `LlmError` when node-llama-cpp or the model does not load.
 */
export async function createLocalBackend(options: LocalBackendOptions): Promise<LlamaCppBackend> {
  const modelPath = await resolveModelPath(options.modelPath ?? options.modelReference ?? DEFAULT_MODEL.reference, {
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
    download: options.download,
    signal: options.signal,
  });
  return createLlamaCppBackend({
    modelPath,
    threads: options.threads,
    parallelSequences: options.parallelSequences,
    contextSize: options.contextSize,
    modelName: options.generatorModelName,
  });
}
