/**
 * Selection schemes against ground truth: every scheme judges the same simulated candidates
 * (latent quality per ranker dimension, some unfaithful or toxic) through the real critique code
 * (`critiqueCandidates`, the real critic files and prompts) and the real generator prompt, with a
 * simulated judge (`SimulatedJudgeBackend`) that answers from the truth with noise and
 * first-position bias. Profile planning runs the real profile builder with the one-check-per-call
 * and the batched contradiction checks against the same simulated judge.
 *
 *   npx tsx bench/bench-selection.ts [--pairs 1000] [--noise 0.1,0.3,0.5] [--bias 0.1] [--seed 7]
 *     [--schemes 'part;part'] [--confirm 11:0.1,23:0.1 --confirm-pairs 5000] [--write]
 * (--schemes: only labels containing a part; --confirm: extra runs at noise 0.3 per seed:bias,
 * listwise schemes only, pooled with standard errors; --write: the section in bench/RESULTS.md)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { RunConfigSchema, type RunConfig } from '../src/schemas/run-config.ts';
import type { SelectionScheme } from '../src/schemas/selection.ts';
import type { Pair } from '../src/schemas/pair.ts';
import type { PoolRecord } from '../src/schemas/conversation.ts';
import { loadCritics } from '../src/critique/load-critics.ts';
import { loadCombinedPanel } from '../src/critique/combined-panel-file.ts';
import { loadListwisePanel } from '../src/critique/listwise-panel-prompt.ts';
import { critiqueCandidates, type CritiqueCandidate } from '../src/critique/critique-candidates.ts';
import { describeSelection, PAPER_SELECTION } from '../src/critique/resolve-selection.ts';
import { loadPromptTemplate } from '../src/generation/load-prompt-template.ts';
import { buildGeneratorPrompt } from '../src/generation/build-generator-prompt.ts';
import { parseConversation } from '../src/generation/parse-conversation.ts';
import { loadSeedAttributes, defaultSeedPaths } from '../src/personas/load-seed-attributes.ts';
import { loadSeedConversations } from '../src/personas/load-seed-conversations.ts';
import { buildSimpleProfiles } from '../src/personas/build-simple-profiles.ts';
import { pairRandomly } from '../src/personas/pair-randomly.ts';
import { createLlmContradictionCheck } from '../src/personas/create-llm-contradiction-check.ts';
import { createBatchedContradictionCheck } from '../src/personas/create-batched-contradiction-check.ts';
import { deriveRandom, sampleWithoutReplacement } from '../src/util/create-random.ts';
import { SimulatedJudgeBackend, type JudgeSimulation, type LatentCandidate } from './simulated-judge-backend.ts';

export interface SelectionBenchOptions {
  pairs: number;
  candidates: number;
  noiseLevels: number[];
  positionBias: number;
  /** Filter checks answer wrongly with this probability. */
  filterErrorRate: number;
  /** Checks per contradiction-check call in the batched planning variant. */
  contradictionBatch: number;
  seed: number;
  /** Only the schemes whose label contains one of these strings (the paper panel always runs). @defaultValue all */
  schemes?: string[];
}

export interface SchemeCase {
  label: string;
  scheme: SelectionScheme;
  /** Profile planning: one check per call (1) or batched. */
  contradictionBatch: number;
}

export interface SchemeResult {
  label: string;
  selection: string;
  noise: number;
  accepted: number;
  callsPerAccepted: number;
  tokensPerAccepted: number;
  /** Share of the paper panel's tokens per accepted conversation at the same noise. */
  tokenShare: number;
  /** Prompt tokens a provider prompt cache could serve, share of all prompt tokens. */
  cacheableShare: number;
  /** Picked the acceptable candidate with the highest mean true quality. */
  accuracy: number;
  /** Pairs with an acceptable candidate (the accuracy's denominator). */
  scoredPairs: number;
  /** Same winner as the paper panel's first run, over pairs both accepted. */
  agreement: number | null;
  /** Calls per accepted by bucket (generator, filters, rankers, planning). */
  callsByBucket: Record<string, number>;
  /** Tokens per accepted by bucket (generator, filters, rankers, planning). */
  tokensByBucket: Record<string, number>;
  /** Share of accepted conversations whose winner is truly unfaithful or toxic. */
  unacceptableWinners: number;
  /** Pairs both this scheme and the paper panel accepted (the agreement's denominator). */
  sharedPairs: number;
}

export interface SelectionMeasurement {
  options: SelectionBenchOptions;
  results: SchemeResult[];
  /** Planning tokens and calls per pair, one check per call vs batched. */
  planning: Array<{ batch: number; tokensPerPair: number; callsPerPair: number }>;
  /** The paper panel's winner agreement with an independent second run, per noise level. */
  selfAgreement: Record<number, number>;
  /** Pairs both paper runs accepted, per noise level (the self-agreement's denominator). */
  selfShared: Record<number, number>;
}

const rr = (panel: SelectionScheme['panel'], second_order: SelectionScheme['second_order']): SelectionScheme => ({
  method: 'round-robin',
  panel,
  second_order,
  filters: 'separate',
});

export function schemeCases(batch: number): SchemeCase[] {
  return [
    { label: 'paper: round robin, per expert, both orders', scheme: PAPER_SELECTION, contradictionBatch: 1 },
    { label: 'round robin, combined panel', scheme: rr('combined', 'always'), contradictionBatch: batch },
    {
      label: 'round robin, combined, 2nd order if uncertain',
      scheme: rr('combined', 'when-uncertain'),
      contradictionBatch: batch,
    },
    {
      label: 'round robin, per expert, 2nd order if uncertain',
      scheme: rr('per-expert', 'when-uncertain'),
      contradictionBatch: batch,
    },
    {
      label: 'knockout, combined, both orders',
      scheme: { ...rr('combined', 'always'), method: 'knockout' },
      contradictionBatch: batch,
    },
    {
      label: 'knockout, combined, 2nd order if uncertain',
      scheme: { ...rr('combined', 'when-uncertain'), method: 'knockout' },
      contradictionBatch: batch,
    },
    {
      label: 'listwise, both orders',
      scheme: { ...rr('combined', 'always'), method: 'listwise' },
      contradictionBatch: batch,
    },
    {
      label: 'listwise, 2nd order if uncertain',
      scheme: { ...rr('combined', 'when-uncertain'), method: 'listwise' },
      contradictionBatch: batch,
    },
    {
      label: 'round robin, combined panel, filters combined',
      scheme: { ...rr('combined', 'always'), filters: 'combined' },
      contradictionBatch: batch,
    },
    {
      label: 'knockout, combined, 2nd order if uncertain, filters combined',
      scheme: { ...rr('combined', 'when-uncertain'), method: 'knockout', filters: 'combined' },
      contradictionBatch: batch,
    },
    {
      label: 'listwise, 2nd order if uncertain, filters combined',
      scheme: { ...rr('combined', 'when-uncertain'), method: 'listwise', filters: 'combined' },
      contradictionBatch: batch,
    },
    {
      label: 'listwise, both orders, filters folded',
      scheme: { method: 'listwise', panel: 'combined', second_order: 'always', filters: 'folded' },
      contradictionBatch: batch,
    },
    {
      label: 'listwise, 2nd order if uncertain, filters folded (default)',
      scheme: { method: 'listwise', panel: 'combined', second_order: 'when-uncertain', filters: 'folded' },
      contradictionBatch: batch,
    },
  ];
}

interface PairOutcome {
  winner: LatentCandidate | null;
  best: LatentCandidate | null;
}

export async function measureSelection(
  options: SelectionBenchOptions,
  log: (line: string) => void = () => {},
): Promise<SelectionMeasurement> {
  const critics = (await loadCritics()).filter((critic) => critic.enabled);
  const dimensions = critics.filter((critic) => critic.kind === 'pairwise').map((critic) => critic.name);
  const template = await loadPromptTemplate();
  const combinedPanel = await loadCombinedPanel();
  const listwisePanel = await loadListwisePanel();
  const config = RunConfigSchema.parse({ candidates: options.candidates, seed: options.seed });
  const seedPool = await loadSeedConversations(defaultSeedPaths().conversations);
  const attributes = await loadSeedAttributes(defaultSeedPaths().attributes);

  const planning: SelectionMeasurement['planning'] = [];
  let pairs: Pair[] = [];
  for (const batch of [1, options.contradictionBatch]) {
    const judge = new SimulatedJudgeBackend(options.seed, dimensions, simulation(options, 0.3, 1));
    const checkOptions = { temperature: 0, maxOutputTokens: config.llm.critic_max_output_tokens, seed: options.seed };
    const { profiles } = await buildSimpleProfiles(
      {
        attributes,
        count: options.pairs * 2,
        attributesPerProfile: config.profiles.attributes_per_profile,
        nearDuplicateThreshold: config.profiles.near_duplicate_threshold,
        concurrency: Math.max(4, batch),
      },
      {
        random: deriveRandom(options.seed, 'profiles'),
        checkContradiction:
          batch === 1
            ? createLlmContradictionCheck(judge, checkOptions)
            : createBatchedContradictionCheck(judge, { ...checkOptions, maxBatch: batch }),
      },
    );
    if (batch === 1) pairs = pairRandomly(profiles, options.pairs, deriveRandom(options.seed, 'pairs'));
    planning.push({
      batch,
      tokensPerPair: (judge.totals.promptTokens + judge.totals.completionTokens) / options.pairs,
      callsPerPair: judge.totals.calls / options.pairs,
    });
  }
  const planningOf = (batch: number) => planning.find((entry) => entry.batch === batch)!;

  const results: SchemeResult[] = [];
  const selfAgreement: Record<number, number> = {};
  const selfShared: Record<number, number> = {};
  for (const noise of options.noiseLevels) {
    let paperWinners: Array<LatentCandidate | null> | undefined;
    let paperTokens = Number.NaN;
    const cases = schemeCases(options.contradictionBatch).filter(
      (schemeCase, position) =>
        position === 0 || !options.schemes || options.schemes.some((part) => schemeCase.label.includes(part)),
    );
    for (const [position, schemeCase] of [
      ...cases,
      { ...cases[0], label: 'paper, second independent run' },
    ].entries()) {
      const judge = new SimulatedJudgeBackend(options.seed, dimensions, simulation(options, noise, 100 + position));
      const outcomes: PairOutcome[] = [];
      for (const pair of pairs) {
        outcomes.push(
          await judgePair(pair, schemeCase.scheme, {
            judge,
            config,
            critics,
            template,
            combinedPanel,
            listwisePanel,
            seedPool,
          }),
        );
      }
      const winners = outcomes.map((outcome) => outcome.winner);
      const accepted = winners.filter((winner) => winner !== null).length;
      const plan = planningOf(schemeCase.contradictionBatch);
      const tokensPerAccepted =
        (judge.totals.promptTokens + judge.totals.completionTokens + plan.tokensPerPair * pairs.length) / accepted;
      if (position === 0) {
        paperWinners = winners;
        paperTokens = tokensPerAccepted;
      }
      const agreement = position === 0 ? null : agreementOf(paperWinners!, winners);
      if (position === cases.length) {
        selfAgreement[noise] = agreement!;
        selfShared[noise] = sharedOf(paperWinners!, winners);
        continue;
      }
      const callsByBucket = Object.fromEntries(
        Object.entries(judge.totals.byKind).map(([bucket, totals]) => [bucket, totals.calls / accepted]),
      );
      callsByBucket.planning = (plan.callsPerPair * pairs.length) / accepted;
      const tokensByBucket = Object.fromEntries(
        Object.entries(judge.totals.byKind).map(([bucket, totals]) => [bucket, totals.tokens / accepted]),
      );
      tokensByBucket.planning = (plan.tokensPerPair * pairs.length) / accepted;
      const result: SchemeResult = {
        label: schemeCase.label,
        selection: `${describeSelection(schemeCase.scheme)}; contradiction checks ${schemeCase.contradictionBatch} per call`,
        noise,
        accepted,
        callsPerAccepted: (judge.totals.calls + plan.callsPerPair * pairs.length) / accepted,
        tokensPerAccepted,
        tokenShare: tokensPerAccepted / paperTokens,
        cacheableShare: judge.totals.cachedPromptTokens / judge.totals.promptTokens,
        accuracy: accuracyOf(outcomes),
        scoredPairs: outcomes.filter((outcome) => outcome.best !== null).length,
        agreement,
        callsByBucket,
        tokensByBucket,
        unacceptableWinners:
          winners.filter((winner) => winner !== null && (winner.unfaithful || winner.toxic)).length / accepted,
        sharedPairs: sharedOf(paperWinners!, winners),
      };
      results.push(result);
      log(
        `noise ${noise}: ${result.label}: ${result.callsPerAccepted.toFixed(1)} calls, ${Math.round(result.tokensPerAccepted)} tokens (${(100 * result.tokenShare).toFixed(0)}%), accuracy ${(100 * result.accuracy).toFixed(1)}%, agreement ${result.agreement === null ? '–' : (100 * result.agreement).toFixed(1) + '%'}, unacceptable winners ${(100 * result.unacceptableWinners).toFixed(1)}%; tokens ${Object.entries(
          result.tokensByBucket,
        )
          .map(([bucket, tokens]) => `${bucket} ${Math.round(tokens)}`)
          .join(', ')}`,
      );
    }
    log(`noise ${noise}: paper self-agreement ${(100 * selfAgreement[noise]).toFixed(1)}%`);
  }
  return { options, results, planning, selfAgreement, selfShared };
}

function simulation(options: SelectionBenchOptions, noise: number, judgeSeed: number): JudgeSimulation {
  return { noise, positionBias: options.positionBias, filterErrorRate: options.filterErrorRate, judgeSeed };
}

interface JudgePairDeps {
  judge: SimulatedJudgeBackend;
  config: RunConfig;
  critics: Awaited<ReturnType<typeof loadCritics>>;
  template: Awaited<ReturnType<typeof loadPromptTemplate>>;
  combinedPanel: Awaited<ReturnType<typeof loadCombinedPanel>>;
  listwisePanel: Awaited<ReturnType<typeof loadListwisePanel>>;
  seedPool: PoolRecord[];
}

/** One pair job as `runPairJob` does it: generate N, critique, and once more with fresh samples if all were filtered. */
async function judgePair(pair: Pair, scheme: SelectionScheme, deps: JudgePairDeps): Promise<PairOutcome> {
  const { config, judge } = deps;
  const examples = sampleWithoutReplacement(
    deriveRandom(config.seed, `few-shot/${pair.id}`),
    deps.seedPool,
    config.generation.few_shot,
  );
  const generated: LatentCandidate[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const reply = await judge.complete({
      role: 'generator',
      messages: buildGeneratorPrompt(deps.template, {
        pair,
        examples,
        targetMinTurns: config.generation.target_min_turns,
        targetMaxTurns: config.generation.target_max_turns,
      }),
      seed: attempt,
      samples: config.candidates,
      maxOutputTokens: config.llm.max_output_tokens,
    });
    const candidates: CritiqueCandidate[] = reply.texts.map((rawText, position) => ({
      index: attempt * config.candidates + position,
      rawText,
      ...parseConversation(rawText),
    }));
    const critique = await critiqueCandidates(
      { pair, candidates },
      {
        backend: judge,
        critics: deps.critics,
        panel: deps.combinedPanel,
        listwisePanel: deps.listwisePanel,
        selection: scheme,
        options: {
          minTurns: config.critique.min_turns,
          maxTurns: config.critique.max_turns,
          temperature: 0,
          maxOutputTokens: config.llm.critic_max_output_tokens,
          seed: config.seed,
        },
      },
    );
    const latentOf = (rawText: string) => judge.candidates.get(/ref-([0-9a-f]{10})/.exec(rawText)![1])!;
    for (const record of critique.records) {
      const passedLint = record.filters.every((verdict) => verdict.source !== 'lint' || verdict.passed);
      if (passedLint)
        generated.push(latentOf(candidates.find((candidate) => candidate.index === record.index)!.rawText));
    }
    if (critique.winnerIndex !== null) {
      const winner = latentOf(candidates.find((candidate) => candidate.index === critique.winnerIndex)!.rawText);
      return { winner, best: bestOf(generated) };
    }
  }
  return { winner: null, best: bestOf(generated) };
}

const meanQuality = (candidate: LatentCandidate) => {
  const values = Object.values(candidate.quality);
  return values.reduce((sum, value) => sum + value, 0) / values.length;
};

/** The truly acceptable candidate (faithful, not toxic, passed lint) with the highest mean quality. */
function bestOf(candidates: LatentCandidate[]): LatentCandidate | null {
  const acceptable = candidates.filter((candidate) => !candidate.unfaithful && !candidate.toxic);
  return acceptable.reduce<LatentCandidate | null>(
    (best, candidate) => (best === null || meanQuality(candidate) > meanQuality(best) ? candidate : best),
    null,
  );
}

/** Share of pairs with an acceptable candidate where the scheme picked the best one. */
function accuracyOf(outcomes: PairOutcome[]): number {
  const scored = outcomes.filter((outcome) => outcome.best !== null);
  return scored.filter((outcome) => outcome.winner?.id === outcome.best!.id).length / scored.length;
}

function sharedOf(reference: Array<LatentCandidate | null>, other: Array<LatentCandidate | null>): number {
  return reference.filter((winner, position) => winner !== null && other[position] !== null).length;
}

function agreementOf(reference: Array<LatentCandidate | null>, other: Array<LatentCandidate | null>): number {
  let shared = 0;
  let same = 0;
  reference.forEach((winner, position) => {
    const otherWinner = other[position];
    if (winner === null || otherWinner === null) return;
    shared += 1;
    if (winner.id === otherWinner.id) same += 1;
  });
  return same / shared;
}

/** The markdown section for bench/RESULTS.md. */
export function renderSelectionSection(
  measurement: SelectionMeasurement,
  meta: { command: string; date: string; seconds: number; load: string },
): string {
  const { options } = measurement;
  const pct = (value: number | null) => (value === null ? '–' : `${(100 * value).toFixed(1)}%`);
  const lines = [
    '## Selection schemes (ground truth)',
    '',
    `Written by \`${meta.command}\` (${meta.date}, ${meta.seconds.toFixed(0)} s, load average ${meta.load}). ${options.pairs} pairs x ${options.candidates} candidates per noise level, first-position bias ${options.positionBias}, filter error rate ${options.filterErrorRate}; every scheme judges the same candidates. Tokens and calls per accepted conversation include generation and profile planning. Accuracy: the winner is the acceptable candidate (faithful, not toxic, passes lint) with the highest mean true quality. Agreement: same winner as the paper panel's run. "paper self-agreement" is the paper panel against an independent second run of itself.`,
    '',
    '| noise | scheme | calls / accepted | tokens / accepted | of paper | prompt tokens a provider cache could serve | accuracy | agreement with paper | unfaithful or toxic winners |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const noise of options.noiseLevels) {
    for (const result of measurement.results.filter((item) => item.noise === noise)) {
      lines.push(
        `| ${noise} | ${result.label} | ${result.callsPerAccepted.toFixed(1)} | ${Math.round(result.tokensPerAccepted)} | ${(100 * result.tokenShare).toFixed(0)}% | ${pct(result.cacheableShare)} | ${pct(result.accuracy)} | ${pct(result.agreement)} | ${pct(result.unacceptableWinners)} |`,
      );
    }
    lines.push(
      `| ${noise} | paper self-agreement (two independent runs) | | | | | | ${pct(measurement.selfAgreement[noise])} | |`,
    );
  }
  lines.push(
    '',
    `Profile planning per pair (real profile builder, simulated contradiction judge): ${measurement.planning
      .map(
        (entry) =>
          `${entry.batch === 1 ? 'one check per call' : `${entry.batch} checks per call`}: ${entry.callsPerPair.toFixed(1)} calls, ${Math.round(entry.tokensPerPair)} tokens`,
      )
      .join(
        '; ',
      )}. The paper row plans with one check per call, every other row with ${options.contradictionBatch} per call.`,
    '',
    'Schemes, as recorded in lineage: ' +
      [...new Map(measurement.results.map((result) => [result.label, result.selection])).entries()]
        .map(([label, selection]) => `${label} = \`${selection}\``)
        .join('; ') +
      '.',
  );
  return lines.join('\n');
}

/** One scheme's figures pooled over confirmation runs (several seeds), with standard errors. */
export interface PooledScheme {
  label: string;
  pairs: number;
  tokenShare: { min: number; max: number };
  /** Accuracy minus the paper panel's, in points, and its standard error. */
  accuracyGap: { points: number; se: number };
  /** Agreement with the paper panel minus the paper panel's self-agreement, in points, and its standard error. */
  agreementGap: { points: number; se: number };
  unacceptableWinners: number;
}

/**
 * Pools confirmation runs: successes over all pairs (accuracy, agreement), differences in points
 * with the standard error of a difference of two independent proportions, √(p₁q₁/n₁ + p₂q₂/n₂).
 */
export function poolConfirmations(runs: readonly SelectionMeasurement[]): PooledScheme[] {
  const rows = runs.flatMap((run) => run.results.map((result) => ({ run, result })));
  const paper = rows.filter(({ result }) => result.agreement === null);
  const proportion = (items: Array<{ successes: number; n: number }>) => {
    const n = items.reduce((sum, item) => sum + item.n, 0);
    return { p: items.reduce((sum, item) => sum + item.successes, 0) / n, n };
  };
  const difference = (left: { p: number; n: number }, right: { p: number; n: number }) => ({
    points: 100 * (left.p - right.p),
    se: 100 * Math.sqrt((left.p * (1 - left.p)) / left.n + (right.p * (1 - right.p)) / right.n),
  });
  const paperAccuracy = proportion(
    paper.map(({ result }) => ({ successes: result.accuracy * result.scoredPairs, n: result.scoredPairs })),
  );
  const self = proportion(
    runs.flatMap((run) =>
      Object.keys(run.selfAgreement).map((noise) => ({
        successes: run.selfAgreement[Number(noise)] * run.selfShared[Number(noise)],
        n: run.selfShared[Number(noise)],
      })),
    ),
  );
  const labels = [...new Set(rows.filter(({ result }) => result.agreement !== null).map(({ result }) => result.label))];
  return labels.map((label) => {
    const mine = rows.filter(({ result }) => result.label === label).map(({ result }) => result);
    const accepted = mine.reduce((sum, result) => sum + result.accepted, 0);
    return {
      label,
      pairs: runs.reduce((sum, run) => sum + run.options.pairs, 0),
      tokenShare: {
        min: Math.min(...mine.map((result) => result.tokenShare)),
        max: Math.max(...mine.map((result) => result.tokenShare)),
      },
      accuracyGap: difference(
        proportion(mine.map((result) => ({ successes: result.accuracy * result.scoredPairs, n: result.scoredPairs }))),
        paperAccuracy,
      ),
      agreementGap: difference(
        proportion(
          mine.map((result) => ({ successes: result.agreement! * result.sharedPairs, n: result.sharedPairs })),
        ),
        self,
      ),
      unacceptableWinners:
        mine.reduce((sum, result) => sum + result.unacceptableWinners * result.accepted, 0) / accepted,
    };
  });
}

/** The confirmation runs' markdown: one line per run, then the pooled table. */
export function renderConfirmations(runs: readonly SelectionMeasurement[], pooled: readonly PooledScheme[]): string {
  const signed = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(1)}`;
  const pct = (value: number) => `${(100 * value).toFixed(1)}%`;
  const lines = ['### Confirmation runs (noise 0.3)', ''];
  for (const run of runs) {
    const noise = run.options.noiseLevels[0];
    lines.push(
      `- \`--pairs ${run.options.pairs} --noise ${noise} --seed ${run.options.seed} --bias ${run.options.positionBias}\`: paper accuracy ${pct(run.results.find((result) => result.agreement === null)!.accuracy)}, self-agreement ${pct(run.selfAgreement[noise])}; ` +
        run.results
          .filter((result) => result.agreement !== null)
          .map(
            (result) =>
              `${result.label}: ${(100 * result.tokenShare).toFixed(1)}% of the tokens, accuracy ${pct(result.accuracy)}, agreement ${pct(result.agreement!)}`,
          )
          .join('; '),
    );
  }
  lines.push(
    '',
    `Pooled over the ${runs.length} runs (${pooled[0]?.pairs ?? 0} pairs; ± one standard error). The paper panel's own winners were unfaithful or toxic in ${pct(
      runs.reduce((sum, run) => {
        const paper = run.results.find((result) => result.agreement === null)!;
        return sum + paper.unacceptableWinners * paper.accepted;
      }, 0) / runs.reduce((sum, run) => sum + run.results.find((result) => result.agreement === null)!.accepted, 0),
    )} of accepted conversations.`,
    '',
    '| scheme | tokens, share of paper | accuracy minus paper | agreement with paper minus paper self-agreement | unfaithful or toxic winners |',
    '|---|---|---|---|---|',
    ...pooled.map(
      (row) =>
        `| ${row.label} | ${(100 * row.tokenShare.min).toFixed(1)}–${(100 * row.tokenShare.max).toFixed(1)}% | ${signed(row.accuracyGap.points)} ± ${row.accuracyGap.se.toFixed(1)} points | ${signed(row.agreementGap.points)} ± ${row.agreementGap.se.toFixed(1)} points | ${pct(row.unacceptableWinners)} |`,
    ),
  );
  return lines.join('\n');
}

const SECTION_START = '<!-- selection-bench:start -->';
const SECTION_END = '<!-- selection-bench:end -->';

/** Replaces (or appends) the selection section of bench/RESULTS.md. */
export async function writeSelectionSection(section: string): Promise<void> {
  const path = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  const current = await readFile(path, 'utf8');
  const block = `${SECTION_START}\n${section}\n${SECTION_END}`;
  const start = current.indexOf(SECTION_START);
  const end = current.indexOf(SECTION_END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + SECTION_END.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(path, next);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argument = (name: string) => {
    const position = process.argv.indexOf(name);
    return position >= 0 ? process.argv[position + 1] : undefined;
  };
  const options: SelectionBenchOptions = {
    pairs: Number(argument('--pairs') ?? 1000),
    candidates: 4,
    noiseLevels: (argument('--noise') ?? '0.1,0.3,0.5').split(',').map(Number),
    positionBias: Number(argument('--bias') ?? 0.1),
    filterErrorRate: Number(argument('--filter-error') ?? 0.05),
    contradictionBatch: Number(argument('--contradiction-batch') ?? 8),
    seed: Number(argument('--seed') ?? 7),
    schemes: argument('--schemes')?.split(';'),
  };
  const started = Date.now();
  const loadBefore = loadavg()[0].toFixed(2);
  const measurement = await measureSelection(options, (line) => console.log(line));
  // Confirmation runs at noise 0.3: `seed:bias` pairs, the listwise schemes against the paper panel.
  const confirmations: SelectionMeasurement[] = [];
  for (const run of (argument('--confirm') ?? '').split(',').filter(Boolean)) {
    const [seed, bias] = run.split(':').map(Number);
    confirmations.push(
      await measureSelection(
        {
          ...options,
          pairs: Number(argument('--confirm-pairs') ?? 5000),
          noiseLevels: [0.3],
          seed,
          positionBias: bias,
          schemes: ['listwise'],
        },
        (line) => console.log(`confirm seed ${seed} bias ${bias}: ${line}`),
      ),
    );
  }
  const confirmation = confirmations.length
    ? `\n\n${renderConfirmations(confirmations, poolConfirmations(confirmations))}`
    : '';
  const section =
    renderSelectionSection(measurement, {
      command: `npx tsx bench/bench-selection.ts --pairs ${options.pairs}${argument('--confirm') ? ` --confirm ${argument('--confirm')} --confirm-pairs ${argument('--confirm-pairs') ?? 5000}` : ''}`,
      date: new Date().toISOString(),
      seconds: (Date.now() - started) / 1000,
      load: `${loadBefore} → ${loadavg()[0].toFixed(2)}`,
    }) + confirmation;
  console.log(`\n${section}`);
  if (process.argv.includes('--write')) await writeSelectionSection(section);
}
