import { embeddingsReplySchema } from '../../schemas/openai-wire.ts';
import type { Embedder } from '../embedders/embedder.ts';
import { LlmError } from '../../errors.ts';
import { DEFAULT_RETRY_POLICY, retryWithPolicy, type RetryPolicy } from '../retry-policy.ts';
import { OpenAiConnection, type ProxySettings } from './openai-connection.ts';

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
  /** Proxies; absent: `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` as undici reads them. */
  proxy?: ProxySettings;
  /**
   * Sends of one batch, for transient faults (the policy of `src/llm/retry-policy.ts`).
   * @defaultValue 3
   */
  maxRetries?: number;
}

/** `Embedder` for an OpenAI-compatible `/embeddings` endpoint. */
export class OpenAiEmbedder implements Embedder {
  readonly kind: string;
  private readonly connection: OpenAiConnection;
  private readonly retryPolicy: RetryPolicy;
  private readonly model: string;
  private readonly batchSize: number;

  constructor(options: OpenAiEmbedderOptions) {
    this.model = options.model ?? 'text-embedding-3-small';
    this.batchSize = options.batchSize ?? 64;
    this.kind = `openai:${this.model}`;
    this.connection = new OpenAiConnection(options);
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, maxRetries: options.maxRetries ?? 3 };
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      const body = { model: this.model, input: batch, encoding_format: 'float' };
      const reply = await retryWithPolicy(() => this.connection.post('/embeddings', body), this.retryPolicy);
      const parsed = embeddingsReplySchema.safeParse(reply.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new LlmError(
          `The /embeddings endpoint at ${this.connection.baseUrl} sent a malformed reply (${issue.path.join('.') || 'reply'}: ${issue.message}).`,
          { retryable: true, requestId: reply.requestId },
        );
      }
      const byIndex = [...parsed.data.data].sort((left, right) => left.index - right.index);
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

  async dispose(): Promise<void> {
    await this.connection.close();
  }
}
