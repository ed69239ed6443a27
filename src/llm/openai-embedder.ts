import OpenAI from 'openai';
import type { Embedder } from './embedder.ts';
import { LlmError } from './errors.ts';
import { mapOpenAiError, type OpenAiErrorContext } from './map-openai-error.ts';

export interface OpenAiEmbedderOptions {
  /** Base URL of an OpenAI-compatible API, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** API key; servers that need none accept the placeholder. Never logged. */
  apiKey?: string;
  /** Embedding model. @defaultValue 'text-embedding-3-small' */
  model?: string;
  /** Texts per `/embeddings` request. @defaultValue 64 */
  batchSize?: number;
  /** Request timeout in milliseconds. @defaultValue 120000 */
  timeoutMs?: number;
  /** HTTP retries (408/409/429/5xx, connection errors; the SDK's backoff). @defaultValue 2 */
  maxRetries?: number;
  /** Custom fetch (tests). */
  fetch?: typeof globalThis.fetch;
}

/** `Embedder` for an OpenAI-compatible `/embeddings` endpoint, through the openai SDK. */
export class OpenAiEmbedder implements Embedder {
  readonly kind: string;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly batchSize: number;
  private readonly errorContext: OpenAiErrorContext;

  constructor(options: OpenAiEmbedderOptions) {
    this.model = options.model ?? 'text-embedding-3-small';
    this.batchSize = options.batchSize ?? 64;
    this.kind = `openai:${this.model}`;
    const apiKey = options.apiKey || 'not-needed';
    const timeoutMs = options.timeoutMs ?? 120_000;
    this.errorContext = { baseUrl: options.baseUrl, apiKey, timeoutMs };
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey,
      timeout: timeoutMs,
      maxRetries: options.maxRetries ?? 2,
      fetch: options.fetch,
      organization: null,
      project: null,
      webhookSecret: null,
      logLevel: 'off',
    });
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      let response: OpenAI.Embeddings.CreateEmbeddingResponse;
      try {
        response = await this.client.embeddings.create({ model: this.model, input: batch, encoding_format: 'float' });
      } catch (error) {
        throw mapOpenAiError(error, this.errorContext);
      }
      const byIndex = [...response.data].sort((left, right) => left.index - right.index);
      if (byIndex.length !== batch.length) {
        throw new LlmError(
          `The /embeddings endpoint returned ${byIndex.length} vectors for ${batch.length} texts (model ${this.model}).`,
          { retryable: true },
        );
      }
      vectors.push(...byIndex.map((item) => item.embedding));
    }
    return vectors;
  }

  async dispose(): Promise<void> {}
}
