/**
 * The embedded model's path, measured without a download (`npx tsx bench/bench-local-model.ts`,
 * or `npm run bench -- --only local-model`):
 * 1. speed of a GGUF with the default model's exact shape (bench/write-shaped-gguf.ts): prompt
 *    processing and generation tokens/s with 1 and 2 threads, flash attention, a smaller batch,
 *    and two sequences decoding together;
 * 2. prompt tokens sent vs evaluated for one pair of the embedded default config, with and without
 *    prefix sharing (the tiny word-vocabulary model runs the real pair job; its generator replies
 *    are replaced by seed conversations so the critics judge real text);
 * 3. the projected wall time of the README main command (`npx persona-forge run`) on the real
 *    default model from those numbers (`projectRun`).
 *
 *   npx tsx bench/bench-local-model.ts            full; rewrites the local-model section of RESULTS.md
 *   npx tsx bench/bench-local-model.ts --quick    smaller prompts; RESULTS.md untouched
 *   ... --no-write                                never touch RESULTS.md
 *   ... --samples=N                               samples per speed setting (default 3)
 *   ... --no-main-command                         skip step 4
 *   ... --only-main-command                       step 4 alone; prints its lines, RESULTS.md untouched
 * 4. the README main command itself (`persona-forge run --model-path <shaped model>`, embedded
 *    defaults) end to end through the CLI, timed, with its calls, tokens and outcomes
 *    (bench/measure-main-command.ts).
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeTinyGguf } from '../scripts/write-tiny-gguf.ts';
import { createLlamaCppBackend } from '../src/llm/llama/create-llama-cpp-backend.ts';
import { localModelDefaultsFor } from '../src/llm/llama/local-model-defaults.ts';
import type { LlmBackend } from '../src/llm/llm-backend.ts';
import { loadPromptTemplate } from '../src/generation/load-prompt-template.ts';
import { buildGeneratorPrompt } from '../src/generation/build-generator-prompt.ts';
import { loadCritics } from '../src/critique/load-critics.ts';
import { defaultSeedPaths } from '../src/personas/load-seed-attributes.ts';
import { loadSeedConversations } from '../src/personas/load-seed-conversations.ts';
import { runPairJob } from '../src/pipeline/run-pair-job.ts';
import { DEFAULT_LOCAL_MODEL_SPEED, projectRun, type LocalModelSpeed } from '../src/pipeline/project-run.ts';
import { addUsage } from '../src/util/add-usage.ts';
import { emptyUsageByRole } from '../src/schemas/usage.ts';
import { RunConfigSchema } from '../src/schemas/run-config.ts';
import type { UsageByRole } from '../src/schemas/usage.ts';
import { renderConversation } from '../src/util/render-conversation.ts';
import { measureLlamaSpeed, type LlamaSpeed } from './measure-llama-speed.ts';
import { writeShapedGguf } from './write-shaped-gguf.ts';
import { measureMainCommand, renderMainCommand, type MainCommandMeasurement } from './measure-main-command.ts';

export interface PairTokenCounts {
  sharePrefixes: boolean;
  /** Pairs run one after another on one backend (as in one iteration), summed. */
  pairs: number;
  usage: UsageByRole;
}

export interface LocalModelMeasurement {
  loadAverage: { start: number; end: number };
  tokensPerCharacter: number;
  /** Each setting measured `samples` times; the median sample by generation speed stands for it. */
  speeds: (LlamaSpeed & {
    label: string;
    loadAverage: number;
    samples: LlamaSpeed[];
    /** Median over rounds of this setting's speed ÷ its group's first setting's (paired). */
    versusFirst: { prompt: number; generated: number };
  })[];
  pairs: PairTokenCounts[];
  /** At the speeds measured now, and at the idle 2-core reference speeds (`DEFAULT_LOCAL_MODEL_SPEED`). */
  projections: (ReturnType<typeof projectRun> & { label: string; speed: LocalModelSpeed })[];
  generatorPromptTokens: number;
  /** The README main command run end to end on the shaped model (absent with `--quick` or `--no-main-command`). */
  mainCommand?: MainCommandMeasurement;
}

const load = () => Math.round(loadavg()[0] * 100) / 100;
const SHAPED_MODEL_BYTES = 529_441_568;

async function shapedModelPath(log: (message: string) => void): Promise<string> {
  const dir = join(tmpdir(), 'persona-forge-bench-models');
  const path = join(dir, 'qwen2.5-0.5b-shaped-q8_0.gguf');
  const size = await stat(path).then(
    (info) => info.size,
    () => 0,
  );
  if (size !== SHAPED_MODEL_BYTES) {
    log(`writing the shaped model (~530 MB) to ${path}`);
    await mkdir(dir, { recursive: true });
    await writeShapedGguf(path);
  }
  return path;
}

/** Replaces generator replies with seed conversations, so the critics judge real text; generation still runs on the model. */
function withSeedReplies(backend: LlmBackend, replies: readonly string[]): LlmBackend {
  let next = 0;
  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    contextTokens: backend.contextTokens,
    countPromptTokens: (request) => backend.countPromptTokens!(request),
    async complete(request) {
      const result = await backend.complete(request);
      if (request.role !== 'generator') return result;
      return { ...result, texts: result.texts.map(() => replies[next++ % replies.length]) };
    },
    dispose: () => backend.dispose(),
  };
}

export async function measureLocalModel(options: {
  quick: boolean;
  log: (message: string) => void;
  /** Samples per speed setting. @defaultValue 3 (1 with `quick`) */
  samples?: number;
  /** Run the README main command end to end on the shaped model. @defaultValue !quick */
  mainCommand?: boolean;
}): Promise<LocalModelMeasurement> {
  const { log, quick } = options;
  const samples = options.samples ?? (quick ? 1 : 3);
  const startLoad = load();
  // The README main command's config: the embedded defaults with no flag given.
  const config = RunConfigSchema.parse(localModelDefaultsFor({}));
  const template = await loadPromptTemplate();
  const pool = await loadSeedConversations(defaultSeedPaths().conversations);
  const critics = (await loadCritics({})).filter((critic) => critic.enabled);
  const pair = {
    id: 'bench-pair',
    user1: { id: 'bench-1', attributes: pool[0].user1_persona },
    user2: { id: 'bench-2', attributes: pool[1].user2_persona },
  };
  const examples = pool.slice(2, 2 + config.generation.few_shot);
  const promptText = buildGeneratorPrompt(template, {
    pair,
    examples,
    targetMinTurns: config.generation.target_min_turns,
    targetMaxTurns: config.generation.target_max_turns,
  })
    .map((message) => message.content)
    .join('\n');

  // 1. Speed of the default model's shape.
  const modelPath = await shapedModelPath(log);
  const promptTokens = quick ? 256 : 1024;
  const generatedTokens = quick ? 8 : 32;
  const speeds: LocalModelMeasurement['speeds'] = [];
  type Settings = Partial<Parameters<typeof measureLlamaSpeed>[2]> & { threads: number };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  // The settings of a group are measured round by round (A B C, A B C, …), so a change of the
  // machine's load falls on every setting alike; each setting's ratio to the group's first one is
  // taken per round (paired) and its median reported.
  const measureGroup = async (group: { label: string; settings: Settings }[]) => {
    const taken = group.map(() => [] as LlamaSpeed[]);
    for (let sample = 0; sample < samples; sample++) {
      for (const [index, { settings }] of group.entries()) {
        taken[index].push(
          await measureLlamaSpeed(modelPath, promptText, { promptTokens, generatedTokens, ...settings }),
        );
      }
    }
    return group.map(({ label }, index) => {
      const byGeneration = [...taken[index]].sort((a, b) => a.generatedTokensPerSecond - b.generatedTokensPerSecond);
      const speed = byGeneration[Math.floor(byGeneration.length / 2)];
      const ratio = (key: 'promptTokensPerSecond' | 'generatedTokensPerSecond') =>
        median(taken[index].map((item, round) => item[key] / taken[0][round][key]));
      const entry = {
        ...speed,
        label,
        loadAverage: load(),
        samples: taken[index],
        versusFirst: { prompt: ratio('promptTokensPerSecond'), generated: ratio('generatedTokensPerSecond') },
      };
      speeds.push(entry);
      log(
        `${label}: ${taken[index].map((item) => `${item.promptTokensPerSecond.toFixed(1)} / ${item.generatedTokensPerSecond.toFixed(1)}`).join(', ')} prompt / generated tokens/s; x${entry.versusFirst.prompt.toFixed(2)} / x${entry.versusFirst.generated.toFixed(2)} vs ${group[0].label} (load ${load()})`,
      );
      return entry;
    });
  };
  const [one, two] = await measureGroup([
    { label: '1 thread', settings: { threads: 1 } },
    { label: '2 threads', settings: { threads: 2 } },
  ]);
  const best = two.generatedTokensPerSecond > one.generatedTokensPerSecond ? 2 : 1;
  const [, , , , batched] = await measureGroup([
    { label: `${best} thread(s), defaults again (the base of the ratios below)`, settings: { threads: best } },
    { label: `${best} thread(s), flash attention`, settings: { threads: best, flashAttention: true } },
    { label: `${best} thread(s), batch size 128`, settings: { threads: best, batchSize: 128 } },
    { label: `${best} thread(s), batch size 2048`, settings: { threads: best, batchSize: 2048 } },
    { label: `${best} thread(s), 2 sequences in one batch`, settings: { threads: best, sequences: 2 } },
  ]);
  const fastest = best === 2 ? two : one;

  // 2. Tokens sent vs evaluated for one pair (tiny word-vocabulary model; counts depend on the tokenizer, not the weights).
  const workDir = await mkdtemp(join(tmpdir(), 'persona-forge-bench-local-'));
  const pairs: PairTokenCounts[] = [];
  let generatorPromptTokens = 0;
  try {
    const tinyPath = join(workDir, 'words.gguf');
    await writeTinyGguf(tinyPath, { vocabulary: 'words' });
    // Seed conversations cut to the default target length stand in for the model's replies.
    const replies = pool
      .slice(4)
      .map((record) => renderConversation(record.turns.slice(0, config.generation.target_max_turns)));
    // One iteration's first pairs, one after another on one backend: they show the same few-shot
    // examples (few_shot_draw per-iteration), and the critics' rubric is the same for every pair.
    const pairCount = quick ? 2 : 3;
    const pairsOfIteration = Array.from({ length: pairCount }, (_, index) => ({
      id: `bench-pair-${index}`,
      user1: { id: `bench-${index}-1`, attributes: pool[index].user1_persona },
      user2: { id: `bench-${index}-2`, attributes: pool[(index + 1) % pool.length].user2_persona },
    }));
    for (const sharePrefixes of [false, true]) {
      const backend = await createLlamaCppBackend({
        modelPath: tinyPath,
        threads: 1,
        parallelSequences: 4,
        contextSize: 8192,
        sharePrefixes,
      });
      try {
        generatorPromptTokens = backend.countPromptTokens({
          role: 'generator',
          messages: buildGeneratorPrompt(template, {
            pair,
            examples,
            targetMinTurns: config.generation.target_min_turns,
            targetMaxTurns: config.generation.target_max_turns,
          }),
        });
        const usage = emptyUsageByRole();
        for (const item of pairsOfIteration) {
          const outcome = await runPairJob(
            { run_id: 'bench', iteration: 1, pair: item, few_shot: examples, pool_version: 0 },
            { config, critics, template, backend: withSeedReplies(backend, replies) },
          );
          if (outcome.status === 'failed') log(`pair job failed: ${outcome.error}`);
          addUsage(usage, outcome.usage);
        }
        pairs.push({ sharePrefixes, pairs: pairCount, usage });
        const sent = usage.generator.prompt_tokens + usage.critic.prompt_tokens;
        const evaluated = (usage.generator.prompt_tokens_evaluated ?? 0) + (usage.critic.prompt_tokens_evaluated ?? 0);
        log(
          `${pairCount} pairs, prefix sharing ${sharePrefixes ? 'on' : 'off'}: ${sent} prompt tokens sent, ${evaluated} evaluated`,
        );
      } finally {
        await backend.dispose();
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  // 3. The README main command on the real default model, from the measured tokens per pair.
  const shared = pairs.find((item) => item.sharePrefixes)!;
  const evaluatedPerPair =
    ((shared.usage.generator.prompt_tokens_evaluated ?? 0) + (shared.usage.critic.prompt_tokens_evaluated ?? 0)) /
    shared.pairs;
  const criticCounts = {
    filters: critics.filter((critic) => critic.kind === 'filter').length,
    rankers: critics.filter((critic) => critic.kind === 'pairwise').length,
  };
  const measuredSpeed: LocalModelSpeed = {
    promptTokensPerSecond: fastest.promptTokensPerSecond,
    generatedTokensPerSecond: fastest.generatedTokensPerSecond,
    batchedTokensPerSecond: batched.generatedTokensPerSecond,
  };
  const projections = [
    { label: `at the speeds measured now (load ${load()})`, speed: measuredSpeed },
    {
      label: 'at the idle 2-core reference speeds (2 threads, shared/docs/TOOLING.md)',
      speed: DEFAULT_LOCAL_MODEL_SPEED,
    },
  ].map(({ label, speed }) => ({
    label,
    speed,
    ...projectRun(config, {
      generatorPromptTokens,
      critics: criticCounts,
      local: true,
      speed,
      evaluatedPromptTokensPerPair: evaluatedPerPair,
    }),
  }));
  const tokensPerCharacter = speeds[0]?.tokensPerCharacter ?? Number.NaN;

  // 4. The README main command itself, end to end through the CLI on the shaped model.
  const mainCommand = (options.mainCommand ?? !quick) ? await measureMainCommand(modelPath, log) : undefined;
  return {
    ...(mainCommand && { mainCommand }),
    loadAverage: { start: startLoad, end: load() },
    tokensPerCharacter,
    speeds,
    pairs,
    projections,
    generatorPromptTokens,
  };
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

/** The RESULTS.md section, between markers that `bench/run-all.ts` keeps when it rewrites the file. */
export function renderLocalModelSection(measurement: LocalModelMeasurement, command: string): string {
  const lines = [
    '<!-- local-model-bench:start -->',
    '## Embedded model (local path, no download)',
    '',
    `\`${command}\`, ${new Date().toISOString()}; load average ${measurement.loadAverage.start} at start, ${measurement.loadAverage.end} at end (2 cores shared with other work: treat the seconds as a lower bound of this machine's speed, the token counts as exact).`,
    '',
    `Model: random Q8_0 weights in the exact shape of Qwen2.5-0.5B (24 layers, hidden 896, 14/2 heads, FFN 4,864, vocabulary 151,936 padded with UNUSED tokens), word-level SPM vocabulary at ${fixed(measurement.tokensPerCharacter, 2)} tokens per character on the generator prompt.`,
    '',
    '| setting | prompt tokens/s | generated tokens/s | × first of its group (prompt / generated, paired median) | samples (prompt / generated) | load avg |',
    '| --- | --- | --- | --- | --- | --- |',
    ...measurement.speeds.map(
      (speed) =>
        `| ${speed.label} (${speed.promptTokens}-token prompt, ${speed.generatedTokens} generated${speed.sequences > 1 ? ' each' : ''}) | ${fixed(speed.promptTokensPerSecond, 1)} | ${fixed(speed.generatedTokensPerSecond, 1)} | ${fixed(speed.versusFirst.prompt, 2)} / ${fixed(speed.versusFirst.generated, 2)} | ${speed.samples.map((item) => `${fixed(item.promptTokensPerSecond, 0)} / ${fixed(item.generatedTokensPerSecond, 1)}`).join(', ')} | ${speed.loadAverage} |`,
    ),
    '',
    "Settings are measured in two groups (threads; then the other settings against the chosen thread count), round by round within a group so that load changes fall on every setting alike; the tokens/s shown are the median sample by generation speed, the ratios the median of the per-round ratios to the group's first setting.",
    '',
    `Prompt tokens per pair of the embedded default config (${measurement.pairs[0]?.pairs ?? 0} pairs of one iteration run one after another through the real pair job on the tiny word-vocabulary model; counts depend on the tokenizer and the prompts, not the weights; generator replies replaced by seed conversations so the critics judge real text):`,
    '',
    '| per pair | generator sent / evaluated | critic sent / evaluated | evaluated ÷ sent |',
    '| --- | --- | --- | --- |',
    ...measurement.pairs.map((item) => {
      const per = (value: number | undefined) =>
        value === undefined ? 'n/a' : Math.round(value / item.pairs).toLocaleString('en-US');
      const sent = item.usage.generator.prompt_tokens + item.usage.critic.prompt_tokens;
      const evaluated =
        (item.usage.generator.prompt_tokens_evaluated ?? 0) + (item.usage.critic.prompt_tokens_evaluated ?? 0);
      return `| prefix sharing ${item.sharePrefixes ? 'on (after)' : 'off (before)'} | ${per(item.usage.generator.prompt_tokens)} / ${per(item.usage.generator.prompt_tokens_evaluated)} | ${per(item.usage.critic.prompt_tokens)} / ${per(item.usage.critic.prompt_tokens_evaluated)} (${fixed(item.usage.critic.calls / item.pairs, 1)} calls) | ${fixed(evaluated / sent, 2)} (goal ≤ 0.33) |`;
    }),
    '',
    'Projected wall time of `npx persona-forge run` (embedded defaults) on the real default model (goal ≤ 10 min):',
    '',
    ...measurement.projections.map(
      (projection) =>
        `- ${projection.label}: **${fixed((projection.durationMs ?? Number.NaN) / 60_000, 1)} min** for ${projection.pairs} pairs${projection.cap ? ` (at most ${fixed((projection.cap.durationMs ?? Number.NaN) / 60_000, 1)} min for the ${projection.cap.pairs} pairs the token cap allows)` : ''}, ${projection.calls.generator + projection.calls.critic} calls, ${projection.tokens.promptEvaluated.toLocaleString('en-US')} prompt tokens evaluated, ${projection.tokens.completion.toLocaleString('en-US')} generated (${fixed(projection.speed.promptTokensPerSecond, 0)} prompt, ${fixed(projection.speed.generatedTokensPerSecond, 1)} generated, ${fixed(projection.speed.batchedTokensPerSecond, 1)} batched tokens/s). ${projection.method}.`,
    ),
    '',
    `Before/after: "off" is node-llama-cpp's own reuse only (a sequence reuses the prefix it already holds), with this version's sequence choice and few-shot examples drawn once per iteration; before this change each candidate evaluated the whole generator prompt on its own sequence (evaluated = sent for the N candidates, issue 14). The default run asks for exactly 10 accepted conversations (\`--target 10\`, within \`budget.max_tokens\` 90,000); the projection assumes every pair accepted (10 pairs) and names the pairs the token cap allows, since the real model's acceptance rate cannot be measured with random weights. Profile planning makes no LLM call on the embedded defaults (\`profiles.contradiction_check: false\`). The thread default follows the idle CPUs (CPUs minus the 1-minute load average, at least 1): when other work holds a core, 2 threads stall each other (llama.cpp's threads wait for one another at every step; at load 7-12 earlier this session 2 threads generated x0.07 of 1 thread), and the load average at the time of each row is in its last column.`,
    ...(measurement.mainCommand
      ? [
          '',
          '### The README main command on the shaped model, measured',
          '',
          ...renderMainCommand(measurement.mainCommand),
          '',
          'The shaped model has random weights: its conversations are gibberish, so the critics accept next to nothing and a `--target` run keeps planning pairs until the token cap (`budget.max_tokens`) stops it. What this measures is the cost of the path, not quality: every generator and critic reply runs to its cap (450 / 320 tokens) or to the bounded strings of its JSON grammar, so the time per pair here is an upper bound of the time per pair on the real model, whose replies end earlier.',
        ]
      : []),
    '<!-- local-model-bench:end -->',
  ];
  return lines.join('\n');
}

/** Rows of the `npm run bench` table; `row` is run-all's row maker (it marks targets of quick runs). */
export function localModelRows<Row>(
  measurement: LocalModelMeasurement,
  row: (section: string, metric: string, value: string, target?: string, pass?: boolean | null) => Row,
): Row[] {
  const section = 'local model';
  const rows = measurement.speeds.map((speed) =>
    row(
      section,
      `shaped Qwen2.5-0.5B, ${speed.label}: prompt / generated tokens/s (load ${speed.loadAverage})`,
      `${fixed(speed.promptTokensPerSecond, 1)} / ${fixed(speed.generatedTokensPerSecond, 1)}`,
    ),
  );
  for (const item of measurement.pairs) {
    const sent = item.usage.generator.prompt_tokens + item.usage.critic.prompt_tokens;
    const evaluated =
      (item.usage.generator.prompt_tokens_evaluated ?? 0) + (item.usage.critic.prompt_tokens_evaluated ?? 0);
    const ratio = evaluated / sent;
    rows.push(
      item.sharePrefixes
        ? row(
            section,
            `prompt tokens evaluated ÷ sent per pair, prefix sharing on (${Math.round(sent / item.pairs)} sent)`,
            fixed(ratio, 2),
            '≤ 0.33',
            ratio <= 1 / 3,
          )
        : row(
            section,
            `prompt tokens evaluated ÷ sent per pair, prefix sharing off (${Math.round(sent / item.pairs)} sent)`,
            fixed(ratio, 2),
          ),
    );
  }
  for (const projection of measurement.projections) {
    const minutes = (projection.durationMs ?? Number.NaN) / 60_000;
    rows.push(
      row(
        section,
        `projected \`npx persona-forge run\` on the default model, ${projection.label}`,
        `${fixed(minutes, 1)} min`,
        '≤ 10 min',
        minutes <= 10,
      ),
    );
  }
  if (measurement.mainCommand) {
    const { wallMs, manifest, loadAverage } = measurement.mainCommand;
    rows.push(
      row(
        section,
        `measured \`persona-forge run --model-path <shaped model>\` end to end (random weights: ${manifest ? `${manifest.totals.accepted} of ${manifest.totals.pairs} pairs accepted, ${manifest.status}` : 'no manifest'}; load ${loadAverage.mean})`,
        `${fixed(wallMs / 60_000, 1)} min`,
      ),
    );
  }
  return rows;
}

/** Replaces (or appends) the local-model section of bench/RESULTS.md; returns the file's path. */
export async function writeLocalModelSection(section: string): Promise<string> {
  const path = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  const previous = await readFile(path, 'utf8').catch(() => '');
  const pattern = /<!-- local-model-bench:start -->[\s\S]*<!-- local-model-bench:end -->/;
  await writeFile(
    path,
    pattern.test(previous) ? previous.replace(pattern, () => section) : `${previous.trimEnd()}\n\n${section}\n`,
  );
  return path;
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const samplesFlag = argv.find((value) => value.startsWith('--samples='));
  const started = Date.now();
  const log = (message: string) =>
    process.stderr.write(`[local-model ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  if (argv.includes('--only-main-command')) {
    // Step 4 alone (e.g. to re-time the main command): its lines, RESULTS.md untouched.
    const main = await measureMainCommand(await shapedModelPath(log), log);
    process.stdout.write(`${renderMainCommand(main).join('\n')}\n`);
    return;
  }
  const measurement = await measureLocalModel({
    quick,
    log,
    ...(samplesFlag && { samples: Number(samplesFlag.slice('--samples='.length)) }),
    ...(argv.includes('--no-main-command') && { mainCommand: false }),
  });
  const section = renderLocalModelSection(
    measurement,
    `npx tsx bench/bench-local-model.ts${argv.length ? ` ${argv.join(' ')}` : ''}`,
  );
  process.stdout.write(`${section}\n`);
  if (!quick && !argv.includes('--no-write')) log(`wrote ${await writeLocalModelSection(section)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
