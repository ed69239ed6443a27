/**
 * Profile planning of `personas.mode: synthesize` (the paper's stage 1+2): LLM calls and tokens
 * per pair with one contradiction check per call against `profiles.contradiction_batch` checks per
 * call. Real `preparePairs` (lexical embeddings, clustering, consistent profiles in both check
 * directions, pairing by cluster overlap) against the simulated judge of the selection bench
 * (every check answers "no contradiction" except with probability `filterErrorRate`), so both
 * variants see the same answers and differ only in how checks are packed into calls.
 *
 *   node --import tsx bench/measure-synthesize-planning.ts [--pairs 200] [--batch 8]
 *
 * Prints a markdown paragraph for bench/RESULTS.md; makes no network call.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
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

const { values } = parseArgs({
  options: { pairs: { type: 'string', default: '200' }, batch: { type: 'string', default: '8' } },
});
const pairs = Number(values.pairs);
const batch = Number(values.batch);
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
