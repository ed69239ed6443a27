import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import type { CompletionRequest, CompletionResult, JsonResponseFormat, LlmBackend } from '../llm-backend.ts';
import type { LlmRole } from '../../schemas/usage.ts';
import { LlmError } from '../../errors.ts';
import { buildResponseFormat } from '../build-response-format.ts';
import { toLlamaChatHistory } from './llama-chat-history.ts';
import { toLlamaJsonSchema } from './llama-json-schema.ts';
import { loadNodeLlamaCpp, type NodeLlamaCpp } from './llama-module.ts';
import { LlamaSequencePool } from './llama-sequence-pool.ts';

/** Options of the embedded llama.cpp backend. */
export interface LlamaCppBackendOptions {
  /** Local GGUF model file. */
  modelPath: string;
  /**
   * CPU threads that evaluate the model (always set explicitly: node-llama-cpp's own default of
   * 4 made a 2-core machine ~250× slower). @defaultValue `defaultLlamaThreads()`
   */
  threads?: number;
  /** Tokens each sequence holds (prompt + reply), capped at the model's training context. @defaultValue 8192 */
  contextSize?: number;
  /**
   * Sequences on the one context: how many samples/requests are generated at once (batched
   * together). Each costs `contextSize` tokens of KV cache. Further requests wait. @defaultValue 1
   */
  parallelSequences?: number;
  /** GPU offload; only CPU is supported. @defaultValue false */
  gpu?: false;
  /** Model name reported by `modelFor` and in results. @defaultValue the file name without `.gguf` */
  modelName?: string;
  /** Replaces `import('node-llama-cpp')` (tests of the missing-package path). */
  importModule?: () => Promise<NodeLlamaCpp>;
}

/**
 * Tokens per sequence by default: a generator prompt with five few-shot conversations is ~3k
 * tokens plus up to 1200 reply tokens. KV cache cost for Qwen2.5-0.5B ≈ 12 KB/token, so ~96 MB
 * per sequence.
 */
export const DEFAULT_LLAMA_CONTEXT_SIZE = 8192;

/**
 * Default CPU threads: half the logical CPUs, at least 1 — the physical cores on SMT machines.
 * On our 2-vCPU machines 2 threads generated 15–40× fewer tokens per second than 1 (thread
 * hand-off dominates), so halving errs on the safe side. Pass `threads` to tune.
 */
export function defaultLlamaThreads(logicalCpuCount = availableParallelism()): number {
  return Math.max(1, Math.floor(logicalCpuCount / 2));
}

interface LlamaParts {
  nodeLlamaCpp: NodeLlamaCpp;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
}

/**
 * Loads a GGUF model with node-llama-cpp (prebuilt CPU binary only, never a source build) and
 * returns an `LlmBackend` that serves requests on a pool of context sequences.
 * Throws `LlmError` (not retryable) when the package, its binary or the model cannot be loaded.
 */
export async function createLlamaCppBackend(options: LlamaCppBackendOptions): Promise<LlamaCppBackend> {
  const threads = positiveInteger('threads', options.threads ?? defaultLlamaThreads());
  const parallelSequences = positiveInteger('parallelSequences', options.parallelSequences ?? 1);
  const requestedContextSize = positiveInteger('contextSize', options.contextSize ?? DEFAULT_LLAMA_CONTEXT_SIZE);
  if (!(await isFile(options.modelPath))) {
    throw new LlmError(`Model file ${options.modelPath} does not exist (or is not a file).`, { retryable: false });
  }

  const nodeLlamaCpp = await loadNodeLlamaCpp(options.importModule);
  let llama: Llama;
  try {
    llama = await nodeLlamaCpp.getLlama({
      gpu: false,
      build: 'never',
      maxThreads: threads,
      logLevel: nodeLlamaCpp.LlamaLogLevel.error,
    });
  } catch (error) {
    throw new LlmError(
      `llama.cpp could not load a prebuilt CPU binary on this machine (${messageOf(error)}). ` +
        'Install the binary package for your platform (an optional dependency that `--omit=optional` leaves out), ' +
        'e.g. `npm install @node-llama-cpp/linux-x64@3.22.1` on Linux x64, or use an OpenAI-compatible endpoint with --base-url.',
      { retryable: false, cause: error },
    );
  }

  let model: LlamaModel | undefined;
  try {
    model = await llama.loadModel({ modelPath: options.modelPath });
    const contextSize = Math.min(requestedContextSize, model.trainContextSize);
    const context = await model.createContext({ contextSize, sequences: parallelSequences, threads });
    const sequences = Array.from({ length: parallelSequences }, () => context.getSequence());
    const probe = new nodeLlamaCpp.LlamaChat({ contextSequence: sequences[0] });
    const chatWrapper = probe.chatWrapper;
    probe.dispose({ disposeSequence: false });
    return new LlamaCppBackend({ nodeLlamaCpp, llama, model, context, chatWrapper }, sequences, {
      modelName: options.modelName ?? basename(options.modelPath).replace(/\.gguf$/i, ''),
      threads,
      contextSize: context.contextSize,
    });
  } catch (error) {
    await model?.dispose();
    await llama.dispose();
    throw new LlmError(`Could not load the model ${options.modelPath} with llama.cpp: ${messageOf(error)}`, {
      retryable: false,
      cause: error,
    });
  }
}

/** The embedded llama.cpp adapter of `LlmBackend`; create it with `createLlamaCppBackend`. */
export class LlamaCppBackend implements LlmBackend {
  readonly kind = 'llama.cpp';
  readonly modelName: string;
  /** CPU threads in use. */
  readonly threads: number;
  /** Tokens per sequence, as created (llama.cpp may round up). */
  readonly contextSize: number;
  private readonly pool: LlamaSequencePool<LlamaContextSequence>;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private disposing: Promise<void> | undefined;

  /** @internal Use `createLlamaCppBackend`. */
  constructor(
    private readonly parts: LlamaParts,
    sequences: LlamaContextSequence[],
    settings: { modelName: string; threads: number; contextSize: number },
  ) {
    this.pool = new LlamaSequencePool(sequences);
    this.modelName = settings.modelName;
    this.threads = settings.threads;
    this.contextSize = settings.contextSize;
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

  /**
   * Generates `samples` replies (sample i uses `seed + i`), each on a free sequence. Absent
   * `temperature` means greedy decoding. `jsonSchema` constrains the reply with a grammar and adds
   * the schema to the system message. `maxOutputTokens` is cut to the room the prompt leaves in
   * the context; a prompt that fills the context fails. Usage: prompt and reply tokens counted
   * with the model's tokenizer, per sample; `calls` = samples.
   */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const sampleCount = request.samples ?? 1;
    if (!Number.isInteger(sampleCount) || sampleCount < 1) {
      throw new RangeError(`Expected \`samples\` to be a positive integer, got ${sampleCount}.`);
    }
    if (this.disposing) throw disposedError();

    const messages = request.jsonSchema
      ? buildResponseFormat(request.messages, request.jsonSchema, 'prompt').messages
      : request.messages;
    const history = toLlamaChatHistory(messages);
    const promptTokens = this.countPromptTokens(history);
    const room = this.contextSize - promptTokens;
    if (room < 1) {
      throw new LlmError(
        `The prompt has ${promptTokens} tokens but a local context sequence holds ${this.contextSize}: raise \`contextSize\` or shorten the prompt.`,
        { retryable: false },
      );
    }
    const maxTokens = Math.min(request.maxOutputTokens ?? room, room);
    const grammar = request.jsonSchema ? await this.grammarFor(request.jsonSchema) : undefined;

    const samples = await Promise.all(
      Array.from({ length: sampleCount }, (_, index) =>
        this.generate(history, request, {
          maxTokens,
          grammar,
          seed: request.seed === undefined ? undefined : request.seed + index,
        }),
      ),
    );
    return {
      texts: samples.map((sample) => sample.text),
      model: this.modelName,
      usage: {
        promptTokens: promptTokens * sampleCount,
        completionTokens: samples.reduce((sum, sample) => sum + sample.completionTokens, 0),
        calls: sampleCount,
      },
    };
  }

  /** Frees the context, the model and the llama.cpp instance; waiting requests fail. Idempotent. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.pool.close(disposedError());
      await this.parts.context.dispose();
      await this.parts.model.dispose();
      await this.parts.llama.dispose();
    })();
    return this.disposing;
  }

  private async generate(
    history: ChatHistoryItem[],
    request: CompletionRequest,
    sample: { maxTokens: number; grammar: LlamaGrammar | undefined; seed: number | undefined },
  ): Promise<{ text: string; completionTokens: number }> {
    try {
      return await this.pool.use(async (sequence) => {
        const chat = new this.parts.nodeLlamaCpp.LlamaChat({
          contextSequence: sequence,
          chatWrapper: this.parts.chatWrapper,
        });
        try {
          let completionTokens = 0;
          const response = await chat.generateResponse(history, {
            temperature: request.temperature,
            topP: request.topP,
            topK: request.topK,
            seed: sample.seed,
            maxTokens: sample.maxTokens,
            grammar: sample.grammar,
            signal: request.signal,
            onToken: (tokens) => {
              completionTokens += tokens.length;
            },
          });
          return { text: response.response, completionTokens };
        } finally {
          chat.dispose({ disposeSequence: false });
        }
      }, request.signal);
    } catch (error) {
      if (error instanceof LlmError) throw error;
      if (request.signal?.aborted) throw new LlmError('LLM request was aborted.', { retryable: false, cause: error });
      if (this.disposing) throw disposedError(error);
      throw new LlmError(`llama.cpp generation failed: ${messageOf(error)}`, { retryable: false, cause: error });
    }
  }

  private countPromptTokens(history: ChatHistoryItem[]): number {
    const { contextText } = this.parts.chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.parts.model.tokenizer).length;
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

function disposedError(cause?: unknown): LlmError {
  return new LlmError('The local model backend was disposed.', { retryable: false, cause });
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`Expected \`${name}\` to be a positive integer, got ${value}.`);
  return value;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
