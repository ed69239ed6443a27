import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaGrammar,
  LlamaModel,
  Token,
} from 'node-llama-cpp';
import type { CompletionRequest, CompletionResult, JsonResponseFormat, LlmBackend } from '../llm-backend.ts';
import type { LlmRole } from '../../schemas/usage.ts';
import { ContextOverflowError, LlmError } from '../../errors.ts';
import { buildResponseFormat } from '../build-response-format.ts';
import { toLlamaChatHistory } from './llama-chat-history.ts';
import { toLlamaJsonSchema } from './llama-json-schema.ts';
import type { NodeLlamaCpp } from './llama-module.ts';
import { LlamaSequencePool } from './llama-sequence-pool.ts';
import { commonPrefixLength, type LlamaSequenceSlot, MIN_SHARED_TOKENS } from './llama-sequence-slot.ts';

/** What `createLlamaCppBackend` loads: the library, the model and its context. */
export interface LlamaParts {
  nodeLlamaCpp: NodeLlamaCpp;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
}

/** The embedded llama.cpp adapter of `LlmBackend`; create it with `createLlamaCppBackend` (create-llama-cpp-backend.ts). */
export class LlamaCppBackend implements LlmBackend {
  readonly kind = 'llama.cpp';
  readonly modelName: string;
  /** CPU threads in use. */
  readonly threads: number;
  /** Tokens per sequence, as created (llama.cpp may round up). */
  readonly contextSize: number;
  private readonly pool: LlamaSequencePool<LlamaSequenceSlot>;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private disposing: Promise<void> | undefined;
  private readonly sharePrefixes: boolean;

  /** @internal Use `createLlamaCppBackend`. */
  constructor(
    private readonly parts: LlamaParts,
    private readonly slots: LlamaSequenceSlot[],
    settings: { modelName: string; threads: number; contextSize: number; sharePrefixes: boolean },
  ) {
    this.pool = new LlamaSequencePool(slots);
    this.modelName = settings.modelName;
    this.threads = settings.threads;
    this.contextSize = settings.contextSize;
    this.sharePrefixes = settings.sharePrefixes;
  }

  /** Sequences that serve requests at once. */
  get parallelSequences(): number {
    return this.parts.context.totalSequences;
  }

  /** Sequences generating right now, and samples waiting for one. */
  get queue(): { busySequences: number; waitingSamples: number } {
    return { busySequences: this.parallelSequences - this.pool.available, waitingSamples: this.pool.waiting };
  }

  /** The one loaded model serves both roles. */
  modelFor(_role?: LlmRole): string {
    return this.modelName;
  }

  /** Tokens one request may hold (prompt + reply): the context of one sequence. */
  get contextTokens(): number {
    return this.contextSize;
  }

  /** Prompt tokens of `request` with the model's tokenizer and chat template (JSON instruction included). */
  countPromptTokens(request: CompletionRequest): number {
    return this.promptTokensOf(historyOf(request)).length;
  }

  /**
   * Generates `samples` replies (sample i uses `seed + i`). The prompt is evaluated once: the
   * first sample's sequence evaluates it, the others copy that KV cache (or keep the prefix they
   * already hold, e.g. the same critic rubric) and evaluate only what differs; the samples then
   * decode together in one batch. Absent `temperature` means greedy decoding. `jsonSchema`
   * constrains the reply with a grammar (strings bounded, see `toLlamaJsonSchema`) and adds the
   * schema to the system message. `maxOutputTokens` is cut to the room the prompt leaves in the
   * context; a prompt that fills the context fails (callers fit prompts with `countPromptTokens`).
   * Usage: prompt and reply tokens with the model's tokenizer, per sample; `calls` = samples;
   * `evaluatedPromptTokens` = prompt tokens the model actually evaluated.
   */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const sampleCount = request.samples ?? 1;
    if (!Number.isInteger(sampleCount) || sampleCount < 1) {
      throw new RangeError(`Expected \`samples\` to be a positive integer, got ${sampleCount}.`);
    }
    if (this.disposing) throw disposedError();

    const history = historyOf(request);
    const tokens = this.promptTokensOf(history);
    const promptTokens = tokens.length;
    const room = this.contextSize - promptTokens;
    if (room < 1) {
      throw new ContextOverflowError(
        `The prompt has ${promptTokens} tokens but a local context sequence holds ${this.contextSize}: raise \`contextSize\` or shorten the prompt.`,
        this.contextSize,
        promptTokens,
      );
    }
    const maxTokens = Math.min(request.maxOutputTokens ?? room, room);
    const grammar = request.jsonSchema ? await this.grammarFor(request.jsonSchema) : undefined;

    const sample = (index: number) =>
      this.generate(history, tokens, request, {
        maxTokens,
        grammar,
        seed: request.seed === undefined ? undefined : request.seed + index,
      });
    // The first sample's prefill starts before the others look for a donor, so they find it.
    const first = sample(0);
    const samples = await Promise.all([
      first,
      ...Array.from({ length: sampleCount - 1 }, (_, index) => sample(index + 1)),
    ]);
    return {
      texts: samples.map((item) => item.text),
      model: this.modelName,
      usage: {
        promptTokens: promptTokens * sampleCount,
        completionTokens: samples.reduce((sum, item) => sum + item.completionTokens, 0),
        calls: sampleCount,
        evaluatedPromptTokens: samples.reduce((sum, item) => sum + item.evaluatedPromptTokens, 0),
      },
    };
  }

  /** Frees the context, the model and the llama.cpp instance; waiting requests fail. Idempotent. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.pool.close(disposedError());
      for (const slot of this.slots) slot.chat.dispose({ disposeSequence: false });
      await this.parts.context.dispose();
      await this.parts.model.dispose();
      await this.parts.llama.dispose();
    })();
    return this.disposing;
  }

  private async generate(
    history: ChatHistoryItem[],
    tokens: readonly Token[],
    request: CompletionRequest,
    sample: { maxTokens: number; grammar: LlamaGrammar | undefined; seed: number | undefined },
  ): Promise<{ text: string; completionTokens: number; evaluatedPromptTokens: number }> {
    try {
      return await this.pool.use(
        async (slot) => {
          const decodedBefore = slot.decodedTokens;
          if (this.sharePrefixes) await slot.loadPrefix(tokens, this.slots);
          let completionTokens = 0;
          const response = await slot.chat.generateResponse(history, {
            temperature: request.temperature,
            topP: request.topP,
            topK: request.topK,
            seed: sample.seed,
            maxTokens: sample.maxTokens,
            grammar: sample.grammar,
            signal: request.signal,
            onToken: (generated) => {
              completionTokens += generated.length;
            },
          });
          // Decoded on this sequence minus the reply's own tokens (fed back one by one) = prompt tokens evaluated.
          const evaluatedPromptTokens = Math.max(0, slot.decodedTokens - decodedBefore - completionTokens);
          return { text: response.response, completionTokens, evaluatedPromptTokens };
        },
        request.signal,
        // The sequence already holding most of this prompt (a shared chat-template start of a few
        // tokens does not count); among equals the one holding least, so the prefixes other
        // requests could still reuse (a rubric, few-shot examples) survive.
        (slot) => {
          const held = slot.sequence.contextTokens;
          const shared = commonPrefixLength(held, tokens);
          return (shared >= MIN_SHARED_TOKENS ? shared : 0) * (this.contextSize + 1) - held.length;
        },
      );
    } catch (error) {
      if (error instanceof LlmError) throw error;
      if (request.signal?.aborted) throw new LlmError('LLM request was aborted.', { retryable: false, cause: error });
      if (this.disposing) throw disposedError(error);
      throw new LlmError(`llama.cpp generation failed: ${messageOf(error)}`, { retryable: false, cause: error });
    }
  }

  private promptTokensOf(history: ChatHistoryItem[]): Token[] {
    const { contextText } = this.parts.chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.parts.model.tokenizer);
  }

  /** One grammar per schema; a schema the grammar builder rejects falls back to "any JSON". */
  private grammarFor(format: JsonResponseFormat): Promise<LlamaGrammar> {
    const schema = toLlamaJsonSchema(format.schema);
    const key = JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      const { llama } = this.parts;
      grammar = llama
        .createGrammarForJsonSchema(schema as Parameters<Llama['createGrammarForJsonSchema']>[0])
        .catch(() => llama.getGrammarFor('json'));
      this.grammars.set(key, grammar);
    }
    return grammar;
  }
}

function historyOf(request: CompletionRequest): ChatHistoryItem[] {
  const messages = request.jsonSchema
    ? buildResponseFormat(request.messages, request.jsonSchema, 'prompt').messages
    : request.messages;
  return toLlamaChatHistory(messages);
}

function disposedError(cause?: unknown): LlmError {
  return new LlmError('The local model backend was disposed.', { retryable: false, cause });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
