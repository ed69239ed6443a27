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
 * Flash attention off. It works on CPU with node-llama-cpp 3.22 (the backend's tests pass with it
 * on, prefix copies and seeded samples included), but on the shaped default model it is no
 * measured win: one idle sample at 2 threads was 13% / 8% faster (prompt / generation); paired
 * rounds on the busy 2-core machine (load 4-9, 1,024-token prompt, 32 tokens generated) gave
 * medians of +16% prompt and -8% generation at 1 thread (4 rounds), -1% / -2% (3 rounds, the
 * bench's), and at 2 threads prompt 1.0-2.9x (median 2.0x) with generation 0.25-1.35x, lost in
 * the noise of stalled threads.
 * Generation is ~3/4 of a pair's time on the embedded defaults, so the net effect is within the
 * noise either way (bench/RESULTS.md).
 */
export const DEFAULT_LLAMA_FLASH_ATTENTION = false;
