import type { EmbedderConfig } from '../../schemas/personas-config.ts';
import type { Embedder } from './embedder.ts';
import { ConfigError } from '../../errors.ts';
import { LexicalEmbedder } from './lexical-embedder.ts';

export interface CreateEmbedderContext {
  /** Fallback base URL for `openai` when `embedder.base_url` is not set (the run's `llm.base_url`). */
  baseUrl?: string;
  /** API key for `openai` (read at the CLI edge, e.g. from `OPENAI_API_KEY`). */
  apiKey?: string;
  /** Threads for `local`. */
  threads?: number;
}

/** Builds the embedder chosen by `personas.embedder` (adapters are imported only when chosen). */
export async function createEmbedder(config: EmbedderConfig, context: CreateEmbedderContext = {}): Promise<Embedder> {
  switch (config.kind) {
    case 'lexical':
      return new LexicalEmbedder();
    case 'openai': {
      const baseUrl = config.base_url ?? context.baseUrl;
      if (!baseUrl) {
        throw new ConfigError('Invalid embedder configuration', [
          'personas.embedder.base_url: the openai embedder needs a base URL (or set llm.base_url / --base-url)',
        ]);
      }
      const { OpenAiEmbedder } = await import('../openai/openai-embedder.ts');
      return new OpenAiEmbedder({ baseUrl, apiKey: context.apiKey, model: config.model, batchSize: config.batch_size });
    }
    case 'local': {
      if (!config.model) {
        throw new ConfigError('Invalid embedder configuration', [
          'personas.embedder.model: the local embedder needs the path of a GGUF embedding model',
        ]);
      }
      const { LlamaCppEmbedder } = await import('../llama/llama-cpp-embedder.ts');
      return new LlamaCppEmbedder({ modelPath: config.model, threads: context.threads });
    }
  }
}
