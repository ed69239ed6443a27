import type { LatencyModel } from './simulated-endpoint.ts';

/** Sizes and endpoint settings of one `npm run bench` (full) or `npm run bench -- --quick`. */
export interface BenchScenario {
  name: 'full' | 'quick';
  efficiency: {
    pairs: number;
    endpoint: LatencyModel;
    /** In process: pairs in flight and LLM requests in flight (≥ the endpoint's slots, so it stays the bottleneck). */
    concurrency: number;
    maxInFlight: number;
    workers: number;
    workerConcurrency: number;
    /** Runs per executor; the table shows the run with the median CPU per call (and all values). */
    repeats: number;
  };
  scale: {
    conversations: number;
    /** Accepted counts at which memory is read. */
    checkpoints: [number, number];
    endpoint: LatencyModel;
    maxInFlight: number;
    workers: number;
    workerConcurrency: number;
  };
  /** The same in-process run with and without hanging requests (default timeout and hedging). */
  hangs: {
    pairs: number;
    endpoint: LatencyModel;
    concurrency: number;
    maxInFlight: number;
    /** Share of requests that never get a reply. */
    hangShare: number;
  };
  economy: {
    pairs: number;
    candidates: number;
    /** Per-dimension flip chance of the noisy combined-panel run. */
    panelNoise: number;
  };
}

// Efficiency: 64 slots, 100 ms + 4000 output tokens/s per request: ~180 ms for a generator reply
// (2 samples of ~300 tokens decoded side by side), ~110 ms for a critic reply; ideal ≈ 550 calls/s.
const efficiencyEndpoint: LatencyModel = { maxConcurrent: 64, fixedLatencyMs: 100, outputTokensPerSecond: 4000 };
// Scale: low latency, many slots: the run goes as fast as the processes can drive it.
const scaleEndpoint: LatencyModel = { maxConcurrent: 256, fixedLatencyMs: 5, outputTokensPerSecond: 0 };

export const FULL_SCENARIO: BenchScenario = {
  name: 'full',
  efficiency: {
    pairs: 2000,
    endpoint: efficiencyEndpoint,
    concurrency: 128,
    maxInFlight: 128,
    workers: 4,
    workerConcurrency: 32,
    // Paced CPU per call moves ±20 % with the machine's state between runs: judge the median of 3.
    repeats: 3,
  },
  scale: {
    conversations: 20_000,
    checkpoints: [2000, 20_000],
    endpoint: scaleEndpoint,
    maxInFlight: 512,
    workers: 4,
    workerConcurrency: 64,
  },
  hangs: { pairs: 600, endpoint: efficiencyEndpoint, concurrency: 128, maxInFlight: 128, hangShare: 0.05 },
  economy: { pairs: 200, candidates: 4, panelNoise: 0.3 },
};

export const QUICK_SCENARIO: BenchScenario = {
  name: 'quick',
  efficiency: { ...FULL_SCENARIO.efficiency, pairs: 200, repeats: 1 },
  scale: { ...FULL_SCENARIO.scale, conversations: 2000, checkpoints: [200, 2000] },
  hangs: { ...FULL_SCENARIO.hangs, pairs: 200 },
  economy: { ...FULL_SCENARIO.economy, pairs: 40 },
};
