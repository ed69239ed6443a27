/**
 * Economy: LLM calls and tokens per accepted conversation with the paper's panel (one call per
 * pairwise expert per candidate pair and order) against `critique.panel: combined` (one call per
 * candidate pair and order for all five dimensions), and how often the two pick the same winner.
 * Three in-process runs on the same plan, seed and candidates against the simulated endpoint:
 * per-expert; combined with the per-expert rule (more utterances wins, per dimension); combined
 * with noisy per-dimension answers (each dimension flips with `panelNoise`, per order).
 */
import { runCoordinatorProcess, startSimulatorProcess } from './processes.ts';
import type { BenchScenario } from './scenarios.ts';
import { benchRunConfig, type BenchRunOptions } from './bench-efficiency.ts';
import type { SimulatedEndpointStats } from './simulated-endpoint.ts';

export interface PanelRunEconomy {
  label: string;
  panel: 'per-expert' | 'combined';
  panelNoise: number;
  accepted: number;
  callsPerAccepted: number;
  rankerCallsPerAccepted: number;
  tokensPerAccepted: number;
  rankerTokensPerAccepted: number;
  /** Share of pairs accepted by both runs whose winner equals the per-expert run's. */
  agreement: number | null;
  /** Coordinator CPU per call over the whole run: in process with a zero-latency endpoint, so CPU-bound. */
  coordinatorCpuMsPerCall: number;
}

export interface EconomyMeasurement {
  pairs: number;
  candidates: number;
  runs: PanelRunEconomy[];
}

const isRanker = (kind: string) => kind.startsWith('pairwise_') || kind.startsWith('panel_');

export async function measureEconomy(scenario: BenchScenario, options: BenchRunOptions): Promise<EconomyMeasurement> {
  const settings = scenario.economy;
  const simulator = await startSimulatorProcess({ maxConcurrent: 64, fixedLatencyMs: 0, outputTokensPerSecond: 0 });
  const variants = [
    { label: 'per-expert', panel: 'per-expert' as const, panelNoise: 0 },
    { label: 'combined', panel: 'combined' as const, panelNoise: 0 },
    { label: `combined, noisy (${settings.panelNoise})`, panel: 'combined' as const, panelNoise: settings.panelNoise },
  ];
  try {
    const runs: PanelRunEconomy[] = [];
    let reference: Record<string, number> | undefined;
    for (const variant of variants) {
      await simulator.setOptions({ panelNoise: variant.panelNoise });
      await simulator.reset();
      options.log(`economy: ${variant.label}, ${settings.pairs} pairs x ${settings.candidates} candidates`);
      const { result } = await runCoordinatorProcess({
        executor: 'in-process',
        config: benchRunConfig({
          out: options.workDir,
          runId: `economy-${variant.label.replace(/\W+/g, '-')}-${Date.now()}`,
          baseUrl: simulator.baseUrl,
          pairs: settings.pairs,
          concurrency: 32,
          maxInFlight: 64,
          candidates: settings.candidates,
          panel: variant.panel,
        }),
        collectWinners: true,
        cleanUp: true,
      });
      const stats = await simulator.stats();
      const winners = result.winners ?? {};
      reference ??= winners;
      runs.push({
        ...variant,
        accepted: result.totals.accepted,
        ...perAccepted(stats, result.totals.accepted),
        agreement: variant.label === 'per-expert' ? null : agreementOf(reference, winners),
        coordinatorCpuMsPerCall: result.cpuMs / stats.requests,
      });
    }
    return { pairs: settings.pairs, candidates: settings.candidates, runs };
  } finally {
    await simulator.close();
  }
}

function perAccepted(stats: SimulatedEndpointStats, accepted: number) {
  const tokens = (kinds: string[]) =>
    kinds.reduce((sum, kind) => sum + stats.tokensByKind[kind].prompt + stats.tokensByKind[kind].completion, 0);
  const kinds = Object.keys(stats.byKind);
  const rankerKinds = kinds.filter(isRanker);
  const per = (value: number) => (accepted > 0 ? value / accepted : Number.NaN);
  return {
    callsPerAccepted: per(stats.requests),
    rankerCallsPerAccepted: per(rankerKinds.reduce((sum, kind) => sum + stats.byKind[kind], 0)),
    tokensPerAccepted: per(tokens(kinds)),
    rankerTokensPerAccepted: per(tokens(rankerKinds)),
  };
}

/** Share of the pairs both runs accepted where they chose the same candidate. */
export function agreementOf(reference: Record<string, number>, other: Record<string, number>): number {
  const shared = Object.keys(reference).filter((pairId) => pairId in other);
  if (shared.length === 0) return Number.NaN;
  return shared.filter((pairId) => reference[pairId] === other[pairId]).length / shared.length;
}

/**
 * Selection schemes against ground truth (calls, tokens, accuracy, agreement per scheme and judge
 * noise): `bench/bench-selection.ts`, a pure simulation through the real critique code, run on its
 * own (`npx tsx bench/bench-selection.ts --write`); `npm run bench` keeps its RESULTS.md section.
 */
export { measureSelection, renderSelectionSection, writeSelectionSection } from './bench-selection.ts';
