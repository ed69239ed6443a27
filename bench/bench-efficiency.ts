/**
 * Efficiency and overhead: one run of N pairs against the simulated endpoint, in process or on
 * BullMQ workers, with the endpoint as the bottleneck (more requests in flight than it serves at
 * once). Efficiency = achieved LLM calls/s ÷ ideal (endpoint slots / mean service time) over the
 * iteration phase (planning makes no calls: `profiles.contradiction_check` is off). Overhead = CPU
 * time of persona-forge's processes (whole coordinator run; workers from "ready" to the end)
 * divided by the calls the endpoint served.
 */
import { startRedisServer } from '../tests/fixtures/redis-server.ts';
import type { RunConfigInput } from '../src/schemas/run-config.ts';
import { readProc, runCoordinatorProcess, startSimulatorProcess, startWorkerProcesses } from './processes.ts';
import type { BenchScenario } from './scenarios.ts';
import { currentLoad } from './machine.ts';

export type ExecutorKind = 'in-process' | 'bullmq';

export interface EfficiencyMeasurement {
  executor: ExecutorKind;
  pairs: number;
  accepted: number;
  failed: number;
  calls: number;
  efficiency: number;
  idealCallsPerSecond: number;
  achievedCallsPerSecond: number;
  /** Most requests waiting for an endpoint slot at once (> 0: the endpoint was the bottleneck). */
  maxWaiting: number;
  /** Busy share of the endpoint's slots per second of the window: where the idle time went. */
  utilizationBySecond: number[];
  /** Coordinator CPU over its whole run (planning, jobs or queue, files, Parquet, card, report) per call. */
  coordinatorCpuMsPerCall: number;
  /** Coordinator CPU from the first iteration start to the last finished pair, per call. */
  coordinatorIterationCpuMsPerCall: number;
  /** All workers' CPU from "worker ready" to the end of the run, per call (bullmq). */
  workersCpuMsPerCall: number | null;
  redisCpuMsPerCall: number | null;
  /** Not persona-forge: the simulator's own CPU per call, to show it was not the bottleneck. */
  simulatorCpuMsPerCall: number;
  /**
   * Share of the iteration phase the coordinator's main thread (in process) or the workers' main
   * threads (BullMQ, mean) were ready to run but waited for a CPU: other work on the machine.
   */
  cpuWaitShare: number;
  wallMs: number;
  loadAverage: number;
}

export interface BenchRunOptions {
  workDir: string;
  /** Write V8 CPU profiles of the coordinator (and workers) here. */
  cpuProfileDir?: string;
  log: (message: string) => void;
}

/** The run config every benchmark shares: 1 iteration, 2 candidates, no planning calls. */
export function benchRunConfig(input: {
  out: string;
  runId: string;
  baseUrl: string;
  pairs: number;
  concurrency: number;
  maxInFlight: number;
  candidates?: number;
  panel?: 'per-expert' | 'combined';
}): RunConfigInput {
  return {
    out: input.out,
    run_id: input.runId,
    seed: 7,
    iterations: 1,
    pairs: input.pairs,
    candidates: input.candidates ?? 2,
    concurrency: input.concurrency,
    llm: {
      provider: 'openai',
      base_url: input.baseUrl,
      model: 'sim-generator',
      critic_model: 'sim-critic',
      max_in_flight: input.maxInFlight,
    },
    profiles: { contradiction_check: false },
    ...(input.panel ? { critique: { panel: input.panel } } : {}),
  };
}

export async function measureEfficiency(
  executor: ExecutorKind,
  scenario: BenchScenario,
  options: BenchRunOptions,
): Promise<EfficiencyMeasurement> {
  const settings = scenario.efficiency;
  const simulator = await startSimulatorProcess(settings.endpoint);
  const redis = executor === 'bullmq' ? await startRedisServer() : undefined;
  const workers = redis
    ? await startWorkerProcesses(settings.workers, {
        redisUrl: redis.url,
        concurrency: settings.workerConcurrency,
        maxInFlight: settings.maxInFlight,
        cpuProfileDir: options.cpuProfileDir,
      })
    : [];
  try {
    const workersBefore = workers.map((worker) => readProc(worker.pid));
    const redisBefore = redis ? readProc(redis.pid) : undefined;
    await simulator.reset();
    options.log(
      `efficiency ${executor}: ${settings.pairs} pairs, ${settings.endpoint.maxConcurrent} endpoint slots${workers.length ? `, ${workers.length} workers x ${settings.workerConcurrency}` : ''}`,
    );
    const { result } = await runCoordinatorProcess(
      {
        executor,
        redisUrl: redis?.url,
        config: benchRunConfig({
          out: options.workDir,
          runId: `efficiency-${executor}-${Date.now()}`,
          baseUrl: simulator.baseUrl,
          pairs: settings.pairs,
          concurrency: settings.concurrency,
          maxInFlight: settings.maxInFlight,
          // The paper panel (15 calls per pair), the scenario the efficiency targets were set on: the
          // listwise default makes 3 calls per pair, so each call carries 5x the per-pair work.
          panel: 'per-expert',
        }),
        cleanUp: true,
      },
      { cpuProfileDir: options.cpuProfileDir },
    );
    const stats = await simulator.stats();
    const workersAfter = workers.map((worker) => readProc(worker.pid));
    const workersCpuMs = workersAfter.reduce(
      (sum, reading, index) => sum + reading.cpuMs - workersBefore[index].cpuMs,
      0,
    );
    const workersWaitMs = workersAfter.reduce(
      (sum, reading, index) => sum + reading.runQueueWaitMs - workersBefore[index].runQueueWaitMs,
      0,
    );
    const redisCpuMs = redis && redisBefore ? readProc(redis.pid).cpuMs - redisBefore.cpuMs : null;
    const calls = stats.requests;
    return {
      executor,
      pairs: result.totals.pairs,
      accepted: result.totals.accepted,
      failed: result.totals.failed,
      calls,
      efficiency: stats.efficiency,
      idealCallsPerSecond: stats.idealCallsPerSecond,
      achievedCallsPerSecond: stats.achievedCallsPerSecond,
      maxWaiting: stats.maxWaiting,
      utilizationBySecond: stats.utilizationBySecond,
      coordinatorCpuMsPerCall: result.cpuMs / calls,
      coordinatorIterationCpuMsPerCall: result.iterationCpuMs / calls,
      workersCpuMsPerCall: workers.length ? workersCpuMs / calls : null,
      redisCpuMsPerCall: redisCpuMs === null ? null : redisCpuMs / calls,
      simulatorCpuMsPerCall: stats.cpuMs / calls,
      cpuWaitShare: workers.length
        ? workersWaitMs / workers.length / result.iterationWallMs
        : result.iterationRunQueueWaitMs / result.iterationWallMs,
      wallMs: result.wallMs,
      loadAverage: currentLoad(),
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await redis?.stop();
    await simulator.close();
  }
}
