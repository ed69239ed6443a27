import { computeRoleCost } from '../llm/compute-cost.ts';
import { asBatchUsage } from '../llm/batch/as-batch-usage.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import { emptyUsageByRole, type UsageByRole } from '../schemas/usage.ts';
import { addUsage } from '../util/add-usage.ts';
import { runPipeline, type PipelineDeps } from './run-pipeline.ts';
import { profilesPlannedFor } from './profiles-planned-for.ts';

export interface RunEstimate {
  sample: {
    runDir: string;
    pairs: number;
    accepted: number;
    acceptanceRate: number;
    /** Tokens per finished pair (accepted or not), by role. */
    tokensPerPair: { generator: number; critic: number };
    /** Tokens per accepted conversation, all roles; null when the sample accepted none. */
    tokensPerAccepted: number | null;
    callsPerAccepted: { generator: number; critic: number } | null;
    costUsd: number;
    wallMs: number;
    /** Profile planning: the profiles built (and checked for contradictions) and their tokens, all roles. */
    planning: { profiles: number; tokens: number };
  };
  projection: {
    pairs: number;
    accepted: number;
    tokens: { generator: number; critic: number; total: number };
    /** Profile planning's share of `tokens`, scaled by the profiles the run builds. */
    planning: { profiles: number; tokens: number };
    costUsd: number;
    durationMs: number;
  };
  /** How the projection was made, in one paragraph. */
  method: string;
}

const roleTokens = (usage: UsageByRole, role: 'generator' | 'critic') =>
  usage[role].prompt_tokens + usage[role].completion_tokens;

/**
 * Runs a small sample of the requested run (1 iteration of `samplePairs` pairs, in `sampleDir`)
 * to measure tokens per pair and the acceptance rate, then projects tokens, cost and time.
 */
export async function estimateRun(
  config: RunConfig,
  deps: Pick<PipelineDeps, 'backend' | 'onProgress' | 'signal'> & { sampleDir: string; samplePairs?: number },
): Promise<RunEstimate> {
  const samplePairs = deps.samplePairs ?? 3;
  const started = Date.now();
  const sample = await runPipeline(
    {
      ...config,
      iterations: 1,
      pairs: samplePairs,
      target: undefined,
      out: deps.sampleDir,
      run_id: 'estimate-sample',
      budget: {},
      // --batch: the sample is sent directly (a batch may take 24 h); the projection is priced at batch prices.
      llm: { ...config.llm, batch: false },
    },
    { backend: deps.backend, onProgress: deps.onProgress, signal: deps.signal },
  );
  const wallMs = Date.now() - started;
  const { totals } = sample.manifest;
  const finished = Math.max(1, totals.accepted + totals.rejected + totals.failed);
  const acceptanceRate = totals.accepted / finished;
  const tokensPerPair = {
    generator: roleTokens(totals.usage, 'generator') / finished,
    critic: roleTokens(totals.usage, 'critic') / finished,
  };
  const models = sample.manifest.models;
  const costOf = (usage: UsageByRole) =>
    computeRoleCost(config.prices, models, config.llm.batch ? asBatchUsage(usage) : usage);
  // The iterations' calls scale with pairs; profile planning's with the profiles it builds (a
  // synthesize pool is at least 20 profiles: 3 sample pairs plan as many as 5 pairs would).
  const iterationUsage = emptyUsageByRole();
  for (const iteration of sample.manifest.iterations) addUsage(iterationUsage, iteration.usage);
  const planningUsage = sample.manifest.planning.usage;

  const projectedPairs =
    config.target !== undefined
      ? Math.ceil(config.target / Math.max(0.05, acceptanceRate))
      : config.pairs * config.iterations;
  const projectedAccepted = config.target ?? Math.round(projectedPairs * acceptanceRate);
  // Latency of one pair = sample wall time x pairs in flight / pairs; the run keeps
  // min(concurrency, pairs) pairs in flight.
  const sampleInFlight = Math.min(config.concurrency, samplePairs);
  const pairLatencyMs = (wallMs * sampleInFlight) / samplePairs;
  // The embedded model: pairs in flight share the same cores, so pair times add up (the sample's
  // wall time per finished pair already includes that sharing).
  const local = deps.backend.kind === 'llama.cpp';
  const durationMs = local
    ? (projectedPairs * wallMs) / finished
    : (projectedPairs * pairLatencyMs) / Math.min(config.concurrency, projectedPairs);
  const sampleProfiles = profilesPlannedFor(config, samplePairs);
  const projectedProfiles = profilesPlannedFor(config, projectedPairs);
  const planningScale = sampleProfiles > 0 ? projectedProfiles / sampleProfiles : 0;
  const projectRole = (role: 'generator' | 'critic') =>
    Math.round(
      (roleTokens(iterationUsage, role) / finished) * projectedPairs + roleTokens(planningUsage, role) * planningScale,
    );
  const planningTokens = roleTokens(planningUsage, 'generator') + roleTokens(planningUsage, 'critic');
  const generatorTokens = projectRole('generator');
  const criticTokens = projectRole('critic');
  const projectedCost = (costOf(iterationUsage) / finished) * projectedPairs + costOf(planningUsage) * planningScale;
  return {
    sample: {
      runDir: sample.runDir,
      pairs: finished,
      accepted: totals.accepted,
      acceptanceRate,
      tokensPerPair,
      tokensPerAccepted:
        totals.accepted > 0
          ? (roleTokens(totals.usage, 'generator') + roleTokens(totals.usage, 'critic')) / totals.accepted
          : null,
      callsPerAccepted: totals.calls_per_accepted,
      costUsd: totals.cost_usd,
      wallMs,
      planning: { profiles: sampleProfiles, tokens: planningTokens },
    },
    projection: {
      pairs: projectedPairs,
      accepted: projectedAccepted,
      tokens: { generator: generatorTokens, critic: criticTokens, total: generatorTokens + criticTokens },
      costUsd: projectedCost,
      planning: { profiles: projectedProfiles, tokens: Math.round(planningTokens * planningScale) },
      durationMs,
    },
    method:
      `Ran ${finished} sample pair(s) in 1 iteration; measured tokens per pair by role, ` +
      `the acceptance rate (${(acceptanceRate * 100).toFixed(0)}%) and the time per pair at ${sampleInFlight} pair(s) in flight. ` +
      `Projected ${projectedPairs} pair(s) = ${config.target !== undefined ? `--target ${config.target} / acceptance rate` : `${config.iterations} iteration(s) x ${config.pairs} pairs`}; ` +
      `tokens and cost of the iterations scale linearly with pairs, profile planning's with the profiles it builds and checks (${sampleProfiles} for the sample, ${projectedProfiles} projected; cost from the price table; unlisted models cost 0); time ` +
      (local
        ? 'adds up the time per pair measured in the sample: on the embedded model pairs in flight share the same CPU cores.'
        : `assumes ${config.concurrency} pair(s) in flight and an endpoint that keeps up.`) +
      ' Later iterations have longer few-shot prompts, so treat tokens as a lower bound.' +
      (config.llm.batch
        ? ' --batch: the sample was sent directly at the full price; the projected cost prices every token at the batch price (batch_price_factor, default 0.5), and the time leaves out the Batch API turnaround (up to 24 h per batch, one batch per planning round and per stage of each iteration).'
        : ''),
  };
}
