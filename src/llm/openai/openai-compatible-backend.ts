import type { LlmRole } from '../../schemas/usage.ts';
import {
  chatCompletionReplySchema,
  isChatCompletionReply,
  type ChatCompletionReply,
} from '../../schemas/openai-wire.ts';
import type { ChatMessage, CompletionRequest, CompletionResult, CompletionUsage, LlmBackend } from '../llm-backend.ts';
import { ConfigError, LlmError } from '../../errors.ts';
import { buildResponseFormat, type ResponseFormatBody, type StructuredWireMode } from '../build-response-format.ts';
import { estimateTokens } from '../estimate-tokens.ts';
import { OpenAiConnection, type ProxySettings } from './openai-connection.ts';

export { PLACEHOLDER_API_KEY } from './openai-connection.ts';

/** Options of `OpenAiCompatibleBackend`. Explicit values only: this class never reads `process.env`. */
export interface OpenAiCompatibleBackendOptions {
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1` or `https://api.openai.com/v1`. */
  baseUrl: string;
  /**
   * API key, sent as `Authorization: Bearer`. Never appears in errors or logs.
   * @defaultValue `'not-needed'` (a placeholder: local servers need no key; some proxies want the header present)
   */
  apiKey?: string;
  /** Model for `role: 'generator'` requests. */
  generatorModel: string;
  /** Model for `role: 'critic'` requests. */
  criticModel: string;
  /** Per-HTTP-request timeout in milliseconds, from sending to the last byte of the reply. @defaultValue 120000 */
  timeoutMs?: number;
  /**
   * Proxies (`HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` semantics). Absent: read from those
   * environment variables by undici's `EnvHttpProxyAgent`. @defaultValue from the environment
   */
  proxy?: ProxySettings;
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
  /**
   * Sends the chat completions instead of a connection of its own, e.g. a `BatchingConnection`
   * (`--batch`). @defaultValue a new `OpenAiConnection` from these options
   */
  connection?: Pick<OpenAiConnection, 'post' | 'close' | 'baseUrl'>;
}

interface SentCompletion {
  texts: string[];
  model: string;
  usage: CompletionUsage;
}

const WIRE_MODES: StructuredWireMode[] = ['json_schema', 'json_object', 'prompt'];

/** The `/chat/completions` request body persona-forge sends. */
interface ChatCompletionBody {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  /** Not in the OpenAI API: vLLM and llama.cpp accept it (only with `sendTopK`). */
  top_k?: number;
  max_tokens?: number;
  seed?: number;
  n?: number;
  response_format?: ResponseFormatBody;
}

/**
 * `LlmBackend` for any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp
 * server, Ollama, proxies), through the openai SDK on a keep-alive undici dispatcher. It sends
 * each request once: failures become `LlmError`s that name the fault (`mapOpenAiError`), and
 * `retryBackend` (src/llm/retry-policy.ts) decides whether to send again.
 */
export class OpenAiCompatibleBackend implements LlmBackend {
  readonly kind = 'openai-compatible';
  private readonly connection: Pick<OpenAiConnection, 'post' | 'close' | 'baseUrl'>;
  /** Learned in auto mode: false once the endpoint showed it cannot serve `n`. */
  private supportsN = true;
  /** Learned in auto mode: the best structured mode the endpoint accepted so far. */
  private structuredWireMode: StructuredWireMode;

  constructor(private readonly options: OpenAiCompatibleBackendOptions) {
    const problems: string[] = [];
    if (!URL.canParse(options.baseUrl ?? ''))
      problems.push(`baseUrl: expected an absolute URL, got "${options.baseUrl}"`);
    if (!options.generatorModel) problems.push('generatorModel: expected a model name');
    if (!options.criticModel) problems.push('criticModel: expected a model name');
    if (problems.length) throw new ConfigError('Invalid OpenAI-compatible backend options', problems);

    this.structuredWireMode =
      options.structuredMode === undefined || options.structuredMode === 'auto'
        ? 'json_schema'
        : options.structuredMode;
    this.connection = options.connection ?? new OpenAiConnection(options);
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

  /** Closes the keep-alive connections; requests still in flight are cut. Idempotent. */
  async dispose(): Promise<void> {
    await this.connection.close();
  }

  /** One chat completion request (plus structured-mode fallbacks); adds to `usage`. */
  private async send(
    request: CompletionRequest,
    n: number,
    seed: number | undefined,
    usage: CompletionUsage,
  ): Promise<SentCompletion> {
    for (;;) {
      const wireMode = this.structuredWireMode;
      const body = this.buildBody(request, n, seed, wireMode);
      let reply: { body: unknown; requestId: string | undefined };
      try {
        usage.calls += 1;
        reply = await this.connection.post('/chat/completions', body, request.signal);
      } catch (error) {
        if (request.jsonSchema && this.canStepDown(wireMode) && isResponseFormatRejection(error)) {
          this.stepDownFrom(wireMode);
          continue;
        }
        throw error;
      }
      const sent = this.readCompletion(reply.body, reply.requestId, body, usage);
      // Served through a batch API (`BatchingConnection`): every call of this request is, so all its tokens are batch tokens.
      if ((reply as { batched?: boolean }).batched) {
        usage.batchPromptTokens = usage.promptTokens;
        usage.batchCompletionTokens = usage.completionTokens;
      }
      return sent;
    }
  }

  private buildBody(
    request: CompletionRequest,
    n: number,
    seed: number | undefined,
    wireMode: StructuredWireMode,
  ): ChatCompletionBody {
    const structured = request.jsonSchema
      ? buildResponseFormat(request.messages, request.jsonSchema, wireMode)
      : undefined;
    const body: ChatCompletionBody = {
      model: this.modelFor(request.role),
      messages: structured?.messages ?? request.messages,
      ...(request.temperature !== undefined && { temperature: request.temperature }),
      ...(request.topP !== undefined && { top_p: request.topP }),
      ...(request.maxOutputTokens !== undefined && { max_tokens: request.maxOutputTokens }),
      ...(seed !== undefined && { seed }),
      ...(n > 1 && { n }),
      ...(structured?.responseFormat && { response_format: structured.responseFormat }),
      ...(this.options.sendTopK && request.topK !== undefined && { top_k: request.topK }),
    };
    return body;
  }

  private readCompletion(
    replyBody: unknown,
    requestId: string | undefined,
    body: ChatCompletionBody,
    usage: CompletionUsage,
  ): SentCompletion {
    let completion: ChatCompletionReply;
    if (isChatCompletionReply(replyBody)) completion = replyBody;
    else {
      const parsed = chatCompletionReplySchema.safeParse(replyBody);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new LlmError(
          `LLM endpoint ${this.connection.baseUrl} sent a reply that is not a chat completion (${issue.path.join('.') || 'reply'}: ${issue.message}).`,
          { retryable: true, requestId, fault: 'malformed_body' },
        );
      }
      completion = parsed.data;
    }
    const choices = [...completion.choices].sort((left, right) => (left.index ?? 0) - (right.index ?? 0));
    const texts = choices.map((choice) => choice.message?.content ?? '');
    if (texts.length === 0 || texts.some((text) => text.trim() === '')) {
      throw new LlmError(`LLM endpoint ${this.connection.baseUrl} returned an empty reply (model ${body.model}).`, {
        retryable: true,
        requestId,
        fault: 'empty_reply',
      });
    }
    if (completion.usage) {
      usage.promptTokens += completion.usage.prompt_tokens ?? 0;
      usage.completionTokens += completion.usage.completion_tokens ?? 0;
      const cached = completion.usage.prompt_tokens_details?.cached_tokens;
      if (typeof cached === 'number') usage.cachedPromptTokens = (usage.cachedPromptTokens ?? 0) + cached;
    } else {
      // No usage reported (some local servers): estimate at ~4 characters per token.
      usage.promptTokens += estimateTokens(body.messages.map((message) => message.content).join('\n'));
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
    error instanceof LlmError &&
    (error.status === 400 || error.status === 422) &&
    /response_format|json_schema|json_object|structured output/i.test(error.message)
  );
}
