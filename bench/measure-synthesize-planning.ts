/**
 * Profile planning of `personas.mode: synthesize` (the paper's stage 1+2): LLM calls and tokens
 * per pair with one contradiction check per call against `profiles.contradiction_batch` checks per
 * call. Real `preparePairs` (lexical embeddings, clustering, consistent profiles in both check
 * directions, pairing by cluster overlap) against the simulated judge of the selection bench
 * (every check answers "no contradiction" except with probability `filterErrorRate`), so both
 * variants see the same answers and differ only in how checks are packed into calls.
 *
 * With `--scale 2000,20000`: plans that many synthesize pairs (no contradiction checks) through
 * the run's own `PairPlanner`, each size in a fresh process, and reports CPU, wall time and peak
 * RSS: planning in chunks of 2,000 pairs keeps both linear in the run's size.
 *
 *   node --import tsx bench/measure-synthesize-planning.ts [--pairs 200] [--batch 8] [--scale 2000,20000]
 *
 * Prints a markdown paragraph for bench/RESULTS.md; makes no network call.
 */
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PairPlanner } from '../src/pipeline/pair-planner.ts';
import type { LlmBackend } from '../src/llm/llm-backend.ts';
import { PersonasConfigSchema } from '../src/schemas/personas-config.ts';
import { RunConfigSchema } from '../src/schemas/run-config.ts';
import { preparePairs } from '../src/personas/prepare-pairs.ts';
import { loadSeedAttributes, defaultSeedPaths } from '../src/personas/load-seed-attributes.ts';
import { LexicalEmbedder } from '../src/llm/embedders/lexical-embedder.ts';
import { deriveRandom } from '../src/util/create-random.ts';
import { SimulatedJudgeBackend } from './simulated-judge-backend.ts';

interface PlanningFigures {
  batch: number;
  pairs: number;
  profiles: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
}

async function measure(pairs: number, batch: number, seed: number): Promise<PlanningFigures> {
  const config = RunConfigSchema.parse({ seed });
  const judge = new SimulatedJudgeBackend(seed, [], {
    noise: 0.3,
    positionBias: 0.1,
    filterErrorRate: 0.05,
    judgeSeed: 1,
  });
  const started = performance.now();
  const prepared = await preparePairs(
    {
      ...PersonasConfigSchema.parse({ mode: 'synthesize', pair_similarity_min: 0 }),
      count: pairs,
      attributes_per_profile: config.profiles.attributes_per_profile,
      critic_temperature: 0,
      critic_max_output_tokens: config.llm.critic_max_output_tokens,
      seed,
      contradiction_batch: batch,
    },
    {
      backend: judge,
      random: deriveRandom(seed, 'personas'),
      embedder: new LexicalEmbedder(),
      seedAttributes: await loadSeedAttributes(defaultSeedPaths().attributes),
    },
  );
  return {
    batch,
    pairs: prepared.pairs.length,
    profiles: prepared.profiles.length,
    calls: judge.totals.calls,
    promptTokens: judge.totals.promptTokens,
    completionTokens: judge.totals.completionTokens,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Plans `pairs` synthesize pairs through `PairPlanner` in this process; prints one JSON line. */
async function planAtScale(pairs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pf-synth-scale-'));
  const noLlm: LlmBackend = {
    kind: 'none',
    modelFor: () => 'none',
    complete: async () => {
      throw new Error('planning without contradiction checks called the LLM');
    },
    dispose: async () => {},
  };
  try {
    const config = RunConfigSchema.parse({
      out: dir,
      run_id: 'scale',
      pairs,
      iterations: 1,
      seed: 7,
      personas: { mode: 'synthesize' },
      profiles: { contradiction_check: false },
    });
    const started = { cpu: process.cpuUsage(), wall: performance.now() };
    const planner = await PairPlanner.open(
      { plan: join(dir, 'plan.jsonl'), manifest: join(dir, 'manifest.json') },
      config,
      {
        backend: noLlm,
        models: { generator: 'none', critic: 'none' },
        emit: () => {},
      },
    );
    await planner.close();
    const cpu = process.cpuUsage(started.cpu);
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
    process.stdout.write(
      `${JSON.stringify({ pairs: planner.size, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: (performance.now() - started.wall) / 1000, peakRssMb: peakKb / 1024 })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '200' },
    batch: { type: 'string', default: '8' },
    scale: { type: 'string' },
    'scale-child': { type: 'string' },
  },
});
if (values['scale-child']) {
  await planAtScale(Number(values['scale-child']));
} else if (values.scale) {
  const load = loadavg()[0].toFixed(2);
  const script = fileURLToPath(import.meta.url);
  const rows = values.scale.split(',').map((size) => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', script, '--scale-child', size], {
      encoding: 'utf8',
    });
    return JSON.parse(output.trim().split('\n').pop()!) as {
      pairs: number;
      cpuSeconds: number;
      wallSeconds: number;
      peakRssMb: number;
    };
  });
  const described = rows
    .map(
      (row) =>
        `${row.pairs.toLocaleString('en-US')} pairs ${row.cpuSeconds.toFixed(1)} s CPU, ${row.wallSeconds.toFixed(1)} s wall, peak RSS ${row.peakRssMb.toFixed(0)} MB`,
    )
    .join('; ');
  const [first, last] = [rows[0], rows[rows.length - 1]];
  process.stdout.write(
    `Synthesize planning through \`PairPlanner\` (no contradiction checks, each size in a fresh process; \`node --import tsx bench/measure-synthesize-planning.ts --scale ${values.scale}\`, ${new Date().toISOString()}, load average ${load}): ${described} (size x${(last.pairs / first.pairs).toFixed(0)}, CPU x${(last.cpuSeconds / first.cpuSeconds).toFixed(1)}, peak RSS ${last.peakRssMb - first.peakRssMb >= 0 ? '+' : ''}${(last.peakRssMb - first.peakRssMb).toFixed(0)} MB).\n`,
  );
} else {
  await measureChecks(Number(values.pairs), Number(values.batch));
}

async function measureChecks(pairs: number, batch: number): Promise<void> {
  const load = loadavg()[0].toFixed(2);
  const [single, batched] = [await measure(pairs, 1, 7), await measure(pairs, batch, 7)];
  const perPair = (figures: PlanningFigures) => ({
    calls: figures.calls / figures.pairs,
    tokens: (figures.promptTokens + figures.completionTokens) / figures.pairs,
  });
  const [a, b] = [perPair(single), perPair(batched)];
  process.stdout.write(
    [
      `Profile planning in \`personas.mode: synthesize\` (real \`preparePairs\`, lexical embeddings, simulated contradiction judge; ${pairs} pairs from a pool of ${single.profiles} profiles; \`node --import tsx bench/measure-synthesize-planning.ts --pairs ${pairs} --batch ${batch}\`, ${new Date().toISOString()}, load average ${load}):`,
      `one check per call ${a.calls.toFixed(1)} calls and ${a.tokens.toFixed(0)} tokens per pair; ${batch} checks per call ${b.calls.toFixed(1)} calls and ${b.tokens.toFixed(0)} tokens per pair`,
      `(calls x${(b.calls / a.calls).toFixed(3)}, tokens x${(b.tokens / a.tokens).toFixed(3)}; ${single.calls} and ${batched.calls} calls in all, ${single.seconds.toFixed(1)} s and ${batched.seconds.toFixed(1)} s of client time).`,
    ].join(' ') + '\n',
  );
}
