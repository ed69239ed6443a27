import { loadNodeLlamaCpp } from '../src/llm/llama/llama-module.ts';

/** One speed measurement of a GGUF model with node-llama-cpp on this machine's CPU. */
export interface LlamaSpeedSettings {
  threads: number;
  /** Prompt tokens evaluated for the prompt-processing rate. */
  promptTokens: number;
  /** Tokens generated (greedy, after the prompt) for the generation rate. */
  generatedTokens: number;
  /** Sequences generating at once (the candidates of a pair), each after its own copy of the prompt. @defaultValue 1 */
  sequences?: number;
  batchSize?: number;
  flashAttention?: boolean;
}

export interface LlamaSpeed extends Required<LlamaSpeedSettings> {
  /** Prompt tokens per second (one sequence). */
  promptTokensPerSecond: number;
  /** Generated tokens per second, all sequences together. */
  generatedTokensPerSecond: number;
  /** Tokens per character of `promptText` with the model's tokenizer. */
  tokensPerCharacter: number;
}

/**
 * Loads `modelPath`, evaluates `promptTokens` tokens of `promptText` on one sequence (timed), copies
 * that state to the other sequences, then has every sequence generate `generatedTokens` tokens at
 * once (timed; node-llama-cpp decodes them in one batch per step).
 */
export async function measureLlamaSpeed(
  modelPath: string,
  promptText: string,
  settings: LlamaSpeedSettings,
): Promise<LlamaSpeed> {
  const resolved = { sequences: 1, batchSize: 512, flashAttention: false, ...settings };
  const nodeLlamaCpp = await loadNodeLlamaCpp();
  const llama = await nodeLlamaCpp.getLlama({
    gpu: false,
    build: 'never',
    maxThreads: resolved.threads,
    logLevel: nodeLlamaCpp.LlamaLogLevel.error,
  });
  try {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({
      contextSize: resolved.promptTokens + resolved.generatedTokens + 64,
      sequences: resolved.sequences,
      threads: resolved.threads,
      batchSize: resolved.batchSize,
      flashAttention: resolved.flashAttention,
    });
    const sequences = Array.from({ length: resolved.sequences }, () => context.getSequence());
    const textTokens = model.tokenize(promptText);
    let prompt = textTokens;
    while (prompt.length < resolved.promptTokens) prompt = [...prompt, ...prompt];
    prompt = prompt.slice(0, resolved.promptTokens);

    const promptStart = performance.now();
    await sequences[0].evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
    const promptSeconds = (performance.now() - promptStart) / 1000;
    for (const other of sequences.slice(1)) {
      const fork = (
        other as unknown as { _copyStateFromOtherSequence?: (from: unknown, upTo: number) => Promise<boolean> }
      )._copyStateFromOtherSequence;
      if (typeof fork !== 'function' || !(await fork.call(other, sequences[0], prompt.length - 1))) {
        await other.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
      }
    }

    const generationStart = performance.now();
    await Promise.all(
      sequences.map(async (sequence) => {
        let generated = 0;
        for await (const token of sequence.evaluate(prompt.slice(-1), { temperature: 0 })) {
          void token;
          generated += 1;
          if (generated >= resolved.generatedTokens) break;
        }
      }),
    );
    const generationSeconds = (performance.now() - generationStart) / 1000;
    await context.dispose();
    await model.dispose();
    return {
      ...resolved,
      promptTokensPerSecond: (prompt.length - 1) / promptSeconds,
      generatedTokensPerSecond: (resolved.generatedTokens * resolved.sequences) / generationSeconds,
      tokensPerCharacter: textTokens.length / promptText.length,
    };
  } finally {
    await llama.dispose();
  }
}
