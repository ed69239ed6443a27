import type { Embedder } from '../embedders/embedder.ts';
import { LlmError } from '../../errors.ts';
import { loadNodeLlamaCpp } from './llama-module.ts';

export interface LlamaCppEmbedderOptions {
  /** GGUF file of an embedding-capable model. */
  modelPath: string;
  /** CPU threads; always set it (the default is far too many on small machines). @defaultValue 1 */
  threads?: number;
  /** Context size in tokens (attributes are short). @defaultValue 512 */
  contextSize?: number;
}

type EmbeddingContext = {
  getEmbeddingFor(text: string): Promise<{ vector: readonly number[] }>;
  dispose(): Promise<void>;
};

/**
 * `Embedder` running a local GGUF model through node-llama-cpp (`model.createEmbeddingContext()`).
 * node-llama-cpp is imported on first use, so installs without it can still use other embedders.
 */
export class LlamaCppEmbedder implements Embedder {
  readonly kind: string;
  private context: Promise<{ context: EmbeddingContext; release: () => Promise<void> }> | undefined;

  constructor(private readonly options: LlamaCppEmbedderOptions) {
    this.kind = `llama.cpp:${options.modelPath.split(/[\\/]/).pop()}`;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const { context } = await (this.context ??= this.load());
    const vectors: number[][] = [];
    // One at a time: a single embedding context evaluates one sequence.
    for (const text of texts) {
      const embedding = await context.getEmbeddingFor(text.trim() === '' ? ' ' : text);
      vectors.push([...embedding.vector]);
    }
    return vectors;
  }

  async dispose(): Promise<void> {
    const loading = this.context;
    this.context = undefined;
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    await loaded?.release();
  }

  private async load(): Promise<{ context: EmbeddingContext; release: () => Promise<void> }> {
    const { getLlama } = await loadNodeLlamaCpp();
    try {
      const llama = await getLlama({ gpu: false, build: 'never' });
      const model = await llama.loadModel({ modelPath: this.options.modelPath });
      const context = await model.createEmbeddingContext({
        threads: this.options.threads ?? 1,
        contextSize: this.options.contextSize ?? 512,
      });
      return {
        context,
        release: async () => {
          await context.dispose();
          await model.dispose();
          await llama.dispose();
        },
      };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new LlmError(`Cannot load the embedding model ${this.options.modelPath} (${why}); check the GGUF path.`, {
        retryable: false,
        cause: error,
      });
    }
  }
}
