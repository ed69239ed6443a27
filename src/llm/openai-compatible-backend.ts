import OpenAI, { APIError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { LlmRole } from '../schemas/usage.ts';
import type { CompletionRequest, CompletionResult, CompletionUsage, LlmBackend } from './llm-backend.ts';
import { ConfigError, LlmError } from './errors.ts';
import { mapOpenAiError, type OpenAiErrorContext } from './map-openai-error.ts';
import { buildResponseFormat, type StructuredWireMode } from './build-response-format.ts';
import { clampRetryAfter } from './clamp-retry-after.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { createNodeHttpFetch, type NodeHttpFetch } from './node-http-fetch.ts';

/** Placeholder key sent when none is given: local servers (vLLM, llama.cpp, Ollama) ignore it. */
export const PLACEHOLDER_API_KEY = 'not-needed';

/** Options of `OpenAiCompatibleBackend`. Explicit values only: this class never reads `process.env`. */
export interface OpenAiCompatibleBackendOptions {
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1` or `https://api.openai.com/v1`. */
  baseUrl: string;
  /**
   * API key, sent as `Authorization: Bearer`. Never appears in errors or logs.
   * @defaultValue `'not-needed'` (a placeholder: local servers need no key, but the SDK requires one)
   */
  apiKey?: string;
  /** Model for `role: 'generator'` requests. */
  generatorModel: string;
  /** Model for `role: 'critic'` requests. */
  criticModel: string;
  /** Per-HTTP-request timeout in milliseconds (each SDK retry gets a fresh one). @defaultValue 120000 */
  timeoutMs?: number;
  /**
   * HTTP retries done by the openai SDK for 408/409/429/5xx, timeouts and connection errors
   * (backoff 0.5 s · 2ⁿ capped at 8 s, or the server's Retry-After). 0 disables. @defaultValue 2
   */
  maxRetries?: number;
  /**
   * How `samples > 1` is served. `n`: one request with `n` (missing choices are filled by separate
   * calls); `separate`: one request per sample with `seed = seed + sampleIndex`; `auto`: try `n`
   * and, once the endpoint rejects it (400) or returns fewer choices, use separate calls for the
   * rest of this instance's life. @defaultValue 'auto'
   */
  samplesMode?: 'auto' | 'n' | 'separate';
  /**
   * How `jsonSchema` requests are sent. `json_schema`: `response_format` json_schema (strict false);
   * `json_object`: JSON mode plus the schema in the system message; `prompt`: only the schema in
   * the system message; `auto`: start with json_schema and step down on a 400 that mentions
   * response_format / json_schema, remembered per instance. @defaultValue 'auto'
   */
  structuredMode?: 'auto' | 'json_schema' | 'json_object' | 'prompt';
  /** Send `topK` as the non-standard body field `top_k` (vLLM, llama.cpp accept it; OpenAI rejects it). @defaultValue false */
  sendTopK?: boolean;
  /** Longest Retry-After honoured, in milliseconds; longer waits are cut to this. @defaultValue 60000 */
  maxRetryAfterMs?: number;
  /**
   * `fetch` implementation (tests, proxies). @defaultValue a lean node:http(s) transport with a
   * keep-alive agent (`createNodeHttpFetch`), released by `dispose()`; it costs about half the CPU
   * per call of the global (undici) fetch
   */
  fetch?: typeof fetch;
}

interface SentCompletion {
  texts: string[];
  model: string;
  usage: CompletionUsage;
}

const WIRE_MODES: StructuredWireMode[] = ['json_schema', 'json_object', 'prompt'];

/** `LlmBackend` for any OpenAI-compatible chat completions endpoint, through the openai SDK. */
export class OpenAiCompatibleBackend implements LlmBackend {
  readonly kind = 'openai-compatible';
  private readonly client: OpenAI;
  private readonly errorContext: OpenAiErrorContext;
  /** Learned in auto mode: false once the endpoint showed it cannot serve `n`. */
  private supportsN = true;
  /** Learned in auto mode: the best structured mode the endpoint accepted so far. */
  private structuredWireMode: StructuredWireMode;
  /** The transport this instance created (none when `options.fetch` was given). */
  private readonly ownFetch: NodeHttpFetch | undefined;

  constructor(private readonly options: OpenAiCompatibleBackendOptions) {
    const problems: string[] = [];
    if (!URL.canParse(options.baseUrl ?? '')) problems.push(`baseUrl: expected an absolute URL, got "${options.baseUrl}"`);
    if (!options.generatorModel) problems.push('generatorModel: expected a model name');
    if (!options.criticModel) problems.push('criticModel: expected a model name');
    if (problems.length) throw new ConfigError('Invalid OpenAI-compatible backend options', problems);

    const timeoutMs = options.timeoutMs ?? 120_000;
    const apiKey = options.apiKey || PLACEHOLDER_API_KEY;
    this.errorContext = { baseUrl: options.baseUrl, apiKey, timeoutMs };
    this.structuredWireMode = options.structuredMode === undefined || options.structuredMode === 'auto' ? 'json_schema' : options.structuredMode;
    this.ownFetch = options.fetch ? undefined : createNodeHttpFetch();
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey,
      timeout: timeoutMs,
      maxRetries: options.maxRetries ?? 2,
      fetch: clampRetryAfter(options.maxRetryAfterMs ?? 60_000, options.fetch ?? this.ownFetch),
      // Explicit nulls/levels stop the SDK from reading OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_LOG.
      organization: null,
      project: null,
      webhookSecret: null,
      logLevel: 'off',
    });
  }

  modelFor(role: LlmRole): string {
    return role === 'generator' ? this.options.generatorModel : this.options.criticModel;
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const samples = request.samples ?? 1;
    if (!Number.isInteger(samples) || samples < 1) {
      throw new TypeError(`Expected \`samples\` to be a positive integer, got ${samples}.`);
    }
    const samplesMode = this.options.samplesMode ?? 'auto';
    const usage: CompletionUsage = { promptTokens: 0, completionTokens: 0, calls: 0 };
    const texts: string[] = [];
    let model = this.modelFor(request.role);

    const useN = samples > 1 && (samplesMode === 'n' || (samplesMode === 'auto' && this.supportsN));
    if (samples === 1 || useN) {
      try {
        const sent = await this.send(request, samples, request.seed, usage);
        texts.push(...sent.texts.slice(0, samples));
        model = sent.model;
        if (texts.length < samples && samplesMode === 'auto') this.supportsN = false;
      } catch (error) {
        if (!(samples > 1 && samplesMode === 'auto' && isBadRequest(error))) throw error;
        this.supportsN = false;
      }
    }
    // Separate calls for the samples still missing; sample i gets seed + i so the samples differ.
    const missing = Array.from({ length: samples - texts.length }, (_, offset) => texts.length + offset);
    const separate = await Promise.all(
      missing.map((sampleIndex) =>
        this.send(request, 1, request.seed === undefined ? undefined : request.seed + sampleIndex, usage),
      ),
    );
    for (const sent of separate) {
      texts.push(sent.texts[0]);
      model = sent.model;
    }
    return { texts, model, usage };
  }

  async dispose(): Promise<void> {
    // The SDK holds no resources of its own; the keep-alive sockets are the transport's.
    this.ownFetch?.close();
  }

  /** One chat completion request (plus structured-mode fallbacks); adds to `usage`. */
  private async send(
    request: CompletionRequest,
    n: number,
    seed: number | undefined,
    usage: CompletionUsage,
  ): Promise<SentCompletion> {
    for (let brokenBodies = 0; ; ) {
      const wireMode = this.structuredWireMode;
      const body = this.buildBody(request, n, seed, wireMode);
      let completion: ChatCompletion;
      try {
        usage.calls += 1;
        completion = await this.client.chat.completions.create(body, { signal: request.signal });
      } catch (error) {
        if (request.jsonSchema && this.canStepDown(wireMode) && isResponseFormatRejection(error)) {
          this.stepDownFrom(wireMode);
          continue;
        }
        // The SDK does not retry a 200 whose body is cut off or not JSON; this is the same HTTP
        // retry, with the same budget and backoff.
        if (isBrokenBody(error) && brokenBodies < (this.options.maxRetries ?? 2)) {
          await sleep(Math.min(8_000, 500 * 2 ** brokenBodies));
          brokenBodies += 1;
          continue;
        }
        throw mapOpenAiError(error, this.errorContext);
      }
      return this.readCompletion(completion, body, usage);
    }
  }

  private buildBody(
    request: CompletionRequest,
    n: number,
    seed: number | undefined,
    wireMode: StructuredWireMode,
  ): ChatCompletionCreateParamsNonStreaming {
    const structured = request.jsonSchema ? buildResponseFormat(request.messages, request.jsonSchema, wireMode) : undefined;
    const body: ChatCompletionCreateParamsNonStreaming & { top_k?: number } = {
      model: this.modelFor(request.role),
      messages: structured?.messages ?? request.messages,
      ...(request.temperature !== undefined && { temperature: request.temperature }),
      ...(request.topP !== undefined && { top_p: request.topP }),
      ...(request.maxOutputTokens !== undefined && { max_tokens: request.maxOutputTokens }),
      ...(seed !== undefined && { seed }),
      ...(n > 1 && { n }),
      ...(structured?.responseFormat && { response_format: structured.responseFormat }),
      // Not in the OpenAI API: the SDK passes unknown body fields through unchanged.
      ...(this.options.sendTopK && request.topK !== undefined && { top_k: request.topK }),
    };
    return body;
  }

  private readCompletion(completion: ChatCompletion, body: ChatCompletionCreateParamsNonStreaming, usage: CompletionUsage): SentCompletion {
    const choices = [...(completion.choices ?? [])].sort((left, right) => left.index - right.index);
    const texts = choices.map((choice) => choice.message?.content ?? '');
    if (texts.length === 0 || texts.some((text) => text.trim() === '')) {
      throw new LlmError(`LLM endpoint ${this.options.baseUrl} returned an empty reply (model ${body.model}).`, {
        retryable: true,
        requestId: (completion as { _request_id?: string | null })._request_id ?? undefined,
      });
    }
    if (completion.usage) {
      usage.promptTokens += completion.usage.prompt_tokens ?? 0;
      usage.completionTokens += completion.usage.completion_tokens ?? 0;
    } else {
      // No usage reported (some local servers): estimate at ~4 characters per token.
      usage.promptTokens += estimateTokens(body.messages.map((message) => String(message.content ?? '')).join('\n'));
      usage.completionTokens += texts.reduce((sum, text) => sum + estimateTokens(text), 0);
    }
    return { texts, model: completion.model || body.model, usage };
  }

  private canStepDown(wireMode: StructuredWireMode): boolean {
    return (this.options.structuredMode ?? 'auto') === 'auto' && wireMode !== 'prompt';
  }

  /** Moves to the mode after `wireMode`, never back up (concurrent requests may report the same rejection). */
  private stepDownFrom(wireMode: StructuredWireMode): void {
    const next = WIRE_MODES.indexOf(wireMode) + 1;
    if (next > WIRE_MODES.indexOf(this.structuredWireMode)) this.structuredWireMode = WIRE_MODES[next];
  }
}

function isBadRequest(error: unknown): boolean {
  return error instanceof LlmError && (error.status === 400 || error.status === 422);
}

/** A 400/422 whose message blames the response format (vLLM, llama.cpp, OpenAI and proxies word it differently). */
function isResponseFormatRejection(error: unknown): boolean {
  return (
    error instanceof APIError &&
    (error.status === 400 || error.status === 422) &&
    /response_format|json_schema|json_object|structured output/i.test(error.message)
  );
}

/** A response whose body was truncated (socket closed mid-body) or is not valid JSON. */
function isBrokenBody(error: unknown): boolean {
  if (error instanceof SyntaxError) return true;
  const message = error instanceof Error ? error.message : '';
  const code = (error as { code?: unknown; cause?: { code?: unknown } })?.cause?.code ?? (error as { code?: unknown })?.code;
  return message === 'terminated' || (typeof code === 'string' && /^UND_ERR_(SOCKET|RES_CONTENT_LENGTH_MISMATCH)/.test(code));
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
