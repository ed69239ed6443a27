import type { LlmRole } from '../schemas/usage.ts';
import type { LlmFaults } from '../schemas/llm-faults.ts';
import type { ContextSource } from '../schemas/manifest.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A JSON-schema response format: the backend asks for JSON matching `schema` the best way it can. */
export interface JsonResponseFormat {
  /** Schema name (letters, digits, `_`), e.g. `critic_toxicity`. */
  name: string;
  /** JSON Schema object (draft 2020-12 subset), typically from `z.toJSONSchema`. */
  schema: Record<string, unknown>;
}

/** One chat completion request. Units are in the names; absent fields take the backend's defaults. */
export interface CompletionRequest {
  /** Which role is calling; selects the model and the usage bucket. */
  role: LlmRole;
  messages: ChatMessage[];
  /** Sampling temperature, 0..2. */
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  /** Sampling seed, for endpoints that honour it. */
  seed?: number;
  /** Number of samples wanted (`n`). Backends without `n` make separate calls. @defaultValue 1 */
  samples?: number;
  /** Ask for JSON matching this schema. The reply is still only text: validate it. */
  jsonSchema?: JsonResponseFormat;
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * Set by `completeStructured` when this request asks again after a reply that stayed unusable
   * through its repair: `retryBackend` counts it as a retry under this cause.
   */
  reaskOf?: 'invalid_json';
}

export interface CompletionUsage {
  promptTokens: number;
  completionTokens: number;
  /** Requests actually sent (0 when served from a cache). */
  calls: number;
  /** Transient faults met and handled on the way (retries by cause, hedges); absent when none. */
  faults?: LlmFaults;
  /** Prompt tokens actually evaluated (prompt minus reused prefix); absent when the backend cannot tell. */
  evaluatedPromptTokens?: number;
  /** Prompt tokens the provider served from its prompt cache (part of `promptTokens`); absent when not reported. */
  cachedPromptTokens?: number;
  /** Prompt / completion tokens of requests served through a batch API (part of the totals); absent without batches. */
  batchPromptTokens?: number;
  batchCompletionTokens?: number;
}

export interface CompletionResult {
  /** One text per sample, in sample order. */
  texts: string[];
  /** Model that answered. */
  model: string;
  usage: CompletionUsage;
}

/**
 * The one port through which persona-forge talks to language models.
 * Adapters keep the wire format inside; errors thrown are `LlmError` (with `retryable`).
 */
export interface LlmBackend {
  /** Human-readable adapter id, e.g. `openai-compatible` or `llama.cpp`. */
  readonly kind: string;
  /** The model serving a role (for lineage). */
  modelFor(role: LlmRole): string;
  complete(request: CompletionRequest): Promise<CompletionResult>;
  /**
   * Tokens one request may hold (prompt + reply), when known: the local model's context per
   * sequence, an endpoint's published context length or `llm.context_length`. Callers fit
   * prompts into it (fewer few-shot examples) before sending.
   */
  readonly contextTokens?: number;
  /** Where `contextTokens` came from (for the manifest). @defaultValue `model` when `contextTokens` is set */
  readonly contextSource?: Exclude<ContextSource, 'none'>;
  /** Prompt tokens of `request` as the model counts them (its own tokenizer, or the project's estimate). */
  countPromptTokens?(request: CompletionRequest): number;
  /** Releases sockets, model memory and worker threads. Idempotent. */
  dispose(): Promise<void>;
}
