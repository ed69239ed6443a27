/**
 * What a hang costs: the same in-process run against the simulated endpoint twice, once with no
 * faults and once with `hangShare` of the requests never answered (default settings otherwise:
 * 120 s timeout, hedging on deadlines learned per role and model). Reports both wall times, their
 * ratio (goal ≤ 1.5) and the hedges, abandoned copies and their estimated prompt tokens.
 */
import type { LlmFaults } from '../src/schemas/llm-faults.ts';
import { benchRunConfig, type BenchRunOptions } from './bench-efficiency.ts';
import { runCoordinatorProcess, startSimulatorProcess } from './processes.ts';
import type { BenchScenario } from './scenarios.ts';
import { currentLoad } from './machine.ts';

export interface HangRun {
  hangShare: number;
  wallMs: number;
  pairs: number;
  failed: number;
  /** Requests the simulator served and left hanging. */
  calls: number;
  hung: number;
  faults: LlmFaults;
  loadAverage: number;
}

export interface HangMeasurement {
  baseline: HangRun;
  withHangs: HangRun;
  /** withHangs.wallMs ÷ baseline.wallMs. */
  wallRatio: number;
}

export async function measureHangs(scenario: BenchScenario, options: BenchRunOptions): Promise<HangMeasurement> {
  const settings = scenario.hangs;
  const run = async (hangShare: number): Promise<HangRun> => {
    const simulator = await startSimulatorProcess({ ...settings.endpoint, hangShare });
    try {
      options.log(`hangs: ${settings.pairs} pairs in process, ${Math.round(hangShare * 100)}% of requests hanging`);
      const { result } = await runCoordinatorProcess({
        executor: 'in-process',
        config: benchRunConfig({
          out: options.workDir,
          runId: `hangs-${hangShare}-${Date.now()}`,
          baseUrl: simulator.baseUrl,
          pairs: settings.pairs,
          concurrency: settings.concurrency,
          maxInFlight: settings.maxInFlight,
        }),
        cleanUp: true,
      });
      const stats = await simulator.stats();
      return {
        hangShare,
        wallMs: result.wallMs,
        pairs: result.totals.pairs,
        failed: result.totals.failed,
        calls: stats.requests,
        hung: stats.hung,
        faults: result.faults,
        loadAverage: currentLoad(),
      };
    } finally {
      await simulator.close();
    }
  };
  const baseline = await run(0);
  const withHangs = await run(settings.hangShare);
  return { baseline, withHangs, wallRatio: withHangs.wallMs / baseline.wallMs };
}
