import { availableParallelism, loadavg } from 'node:os';

/**
 * Tokens per sequence by default: a generator prompt with five few-shot conversations is ~3k
 * tokens plus up to 1200 reply tokens. KV cache cost for Qwen2.5-0.5B ≈ 12 KB/token, so ~96 MB
 * per sequence.
 */
export const DEFAULT_LLAMA_CONTEXT_SIZE = 8192;

/**
 * Default CPU threads: the logical CPUs not already busy (CPUs minus the 1-minute load average,
 * rounded), at least 1 and at most 8. On an idle 2-core machine a model of the default's shape
 * (Qwen2.5-0.5B) processed prompts ~2× and generated ~1.3× faster with 2 threads than with 1
 * (shared/docs/TOOLING.md); on the same machine with a load average of 16, 2 threads generated
 * ~15× slower than 1 (bench/RESULTS.md): llama.cpp's threads wait for each other at every step,
 * so one descheduled thread stalls all. Pass `threads` (`llm.threads`) to override.
 */
export function defaultLlamaThreads(logicalCpuCount = availableParallelism(), loadAverage = loadavg()[0]): number {
  const idle = Math.round(logicalCpuCount - loadAverage);
  return Math.max(1, Math.min(8, logicalCpuCount, idle));
}

/** Prompt tokens per llama.cpp batch: node-llama-cpp's default, also the fastest size measured (bench/RESULTS.md). */
export const DEFAULT_LLAMA_BATCH_SIZE = 512;

/**
 * Flash attention off. On the shaped default model (bench/RESULTS.md) it was slower on a busy
 * machine (16.5 vs 44.5 prompt tokens/s) and 13% / 8% faster (prompt / generation) in one idle
 * sample: not yet a measured win worth changing the default for.
 */
export const DEFAULT_LLAMA_FLASH_ATTENTION = false;
