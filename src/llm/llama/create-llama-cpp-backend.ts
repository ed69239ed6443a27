import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { LlmError } from '../../errors.ts';
import { loadNodeLlamaCpp, type NodeLlamaCpp } from './llama-module.ts';
import { LlamaSequenceSlot } from './llama-sequence-slot.ts';
import { LlamaCppBackend, messageOf } from './llama-cpp-backend.ts';
import {
  DEFAULT_LLAMA_BATCH_SIZE,
  DEFAULT_LLAMA_CONTEXT_SIZE,
  DEFAULT_LLAMA_FLASH_ATTENTION,
  defaultLlamaThreads,
} from './default-llama-threads.ts';

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
  /**
   * Tokens llama.cpp evaluates in one batch (prompt chunks; the samples of all sequences decode
   * together within it). @defaultValue `DEFAULT_LLAMA_BATCH_SIZE`
   */
  batchSize?: number;
  /** Flash attention (see bench/RESULTS.md for its effect on CPU). @defaultValue `DEFAULT_LLAMA_FLASH_ATTENTION` */
  flashAttention?: boolean;
  /**
   * Share evaluated prompt prefixes between sequences (KV-cache copies; see `LlamaSequenceSlot`).
   * Off, each sequence reuses only what it held itself (node-llama-cpp's own behaviour); the bench
   * compares both. @defaultValue true
   */
  sharePrefixes?: boolean;
  /** GPU offload; only CPU is supported. @defaultValue false */
  gpu?: false;
  /** Model name reported by `modelFor` and in results. @defaultValue the file name without `.gguf` */
  modelName?: string;
  /** Replaces `import('node-llama-cpp')` (tests of the missing-package path). */
  importModule?: () => Promise<NodeLlamaCpp>;
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
    const context = await model.createContext({
      contextSize,
      sequences: parallelSequences,
      threads,
      batchSize: options.batchSize ?? DEFAULT_LLAMA_BATCH_SIZE,
      flashAttention: options.flashAttention ?? DEFAULT_LLAMA_FLASH_ATTENTION,
    });
    // One LlamaChat per sequence, reused by every request on it (all share the model's chat wrapper).
    const slots = Array.from({ length: parallelSequences }, () => {
      const sequence = context.getSequence();
      return new LlamaSequenceSlot(sequence, new nodeLlamaCpp.LlamaChat({ contextSequence: sequence }));
    });
    const chatWrapper = slots[0].chat.chatWrapper;
    return new LlamaCppBackend({ nodeLlamaCpp, llama, model, context, chatWrapper }, slots, {
      modelName: options.modelName ?? basename(options.modelPath).replace(/\.gguf$/i, ''),
      threads,
      contextSize: context.contextSize,
      sharePrefixes: options.sharePrefixes ?? true,
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
