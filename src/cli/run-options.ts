import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { loadRunConfig } from '../config/load-run-config.ts';
import type { RunConfig, RunConfigInput } from '../schemas/run-config.ts';
import { positiveInteger, nonNegativeInteger, positiveNumber } from './parse-flag.ts';

/** Flags shared by `run` and `estimate`. */
export interface RunFlags {
  baseUrl?: string;
  model?: string;
  criticModel?: string;
  modelPath?: string;
  iterations?: number;
  pairs?: number;
  target?: number;
  candidates?: number;
  concurrency?: number;
  out?: string;
  runId?: string;
  seed?: number;
  config?: string;
  critics?: string;
  panel?: 'per-expert' | 'combined';
  selection?: 'round-robin' | 'knockout' | 'listwise';
  secondOrder?: 'always' | 'when-uncertain';
  filters?: 'separate' | 'folded';
  maxCost?: number;
  maxTokens?: number;
  resume?: string;
  redis?: string;
  logLevel: string;
}

export function addRunOptions(command: Command): Command {
  return command
    .option('--base-url <url>', 'OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (env OPENAI_BASE_URL)')
    .option('--model <name>', 'generator model (default gpt-4o-mini on an endpoint)')
    .option('--critic-model <name>', 'critic model (default: the generator model)')
    .option('--model-path <file.gguf>', 'run on this local GGUF model instead of an endpoint')
    .option('--iterations <n>', 'Generator-Critic iterations (default 3)', positiveInteger)
    .option('--pairs <n>', 'pairs per iteration (default 10)', positiveInteger)
    .option('--target <n>', 'exactly this many accepted conversations (over-generates pairs; ignores --pairs)', positiveInteger)
    .option('--candidates <n>', 'candidates per pair (default 4)', positiveInteger)
    .option('--concurrency <n>', 'pairs in flight at once (default 4)', positiveInteger)
    .option('--out <dir>', 'root of run directories (default output)')
    .option('--run-id <id>', 'run directory name (default: time and seed)')
    .option('--seed <n>', 'seed for every random choice (default 1)', nonNegativeInteger)
    .option('--config <file>', 'YAML or JSON config file (flags > env > file > defaults)')
    .option('--critics <dir>', 'directory of critic files that add to or replace the built-in critics/')
    .addOption(
      new Option(
        '--panel <mode>',
        'pairwise rankers: one call per expert (paper) or one combined call (default per-expert)',
      ).choices(['per-expert', 'combined']),
    )
    .addOption(
      new Option(
        '--selection <method>',
        'how the best candidate is chosen: round-robin (the paper, with per-expert panel, both orders, separate filters), knockout, or listwise (default)',
      ).choices(['round-robin', 'knockout', 'listwise']),
    )
    .addOption(
      new Option('--second-order <when>', 'ask the second presentation order always (paper) or only when the first answer is uncertain').choices([
        'always',
        'when-uncertain',
      ]),
    )
    .addOption(
      new Option('--filters <mode>', 'faithfulness/toxicity filters: one call each (separate) or folded into the listwise call').choices([
        'separate',
        'folded',
      ]),
    )
    .option('--max-cost <usd>', 'stop admitting work once the run has cost this much', positiveNumber)
    .option('--max-tokens <n>', 'stop admitting work once the run has used this many tokens', positiveInteger)
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'));
}

/** Maps flags onto the config shape; absent flags stay undefined so lower layers show through. */
export function flagsToConfig(flags: RunFlags): RunConfigInput {
  return {
    out: flags.out,
    run_id: flags.runId,
    seed: flags.seed,
    iterations: flags.iterations,
    pairs: flags.pairs,
    target: flags.target,
    candidates: flags.candidates,
    concurrency: flags.concurrency,
    llm: {
      base_url: flags.baseUrl,
      model: flags.model,
      critic_model: flags.criticModel,
      model_path: flags.modelPath,
      ...(flags.baseUrl ? { provider: 'openai' as const } : flags.modelPath ? { provider: 'local' as const } : {}),
    },
    critique: { critics_dir: flags.critics, panel: flags.panel, selection: flags.selection, second_order: flags.secondOrder, filters: flags.filters },
    budget: { max_cost_usd: flags.maxCost, max_tokens: flags.maxTokens },
  };
}

/** For `--resume DIR`: the stored config becomes the base layer, and the run lands in DIR again. */
async function resumeLayer(runDir: string): Promise<RunConfigInput> {
  const configPath = join(runDir, 'config.json');
  let stored: { config?: unknown };
  try {
    stored = JSON.parse(await readFile(configPath, 'utf8'));
  } catch {
    throw new ConfigError(`cannot resume: ${configPath} is missing or unreadable; pass the run directory printed by the first run`);
  }
  if (!stored.config || typeof stored.config !== 'object') throw new ConfigError(`cannot resume: ${configPath} has no "config" section`);
  return { ...(stored.config as RunConfigInput), out: dirname(resolve(runDir)), run_id: basename(resolve(runDir)) };
}

/** On resume, flags may change only what does not alter the dataset (the fingerprint check enforces it). */
function mergeResume(stored: RunConfigInput, flags: RunConfigInput): RunConfigInput {
  const defined = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
  return {
    ...stored,
    ...defined({ concurrency: flags.concurrency }),
    llm: { ...stored.llm, ...defined({ base_url: flags.llm?.base_url }) },
    budget: { ...stored.budget, ...defined(flags.budget ?? {}) },
  };
}

/** The run config from flags, env and config file — or, with `--resume`, from the run directory. */
export async function resolveRunConfig(flags: RunFlags): Promise<RunConfig> {
  if (flags.resume && flags.config) throw new ConfigError('--resume takes its settings from the run directory; drop --config');
  const base = flagsToConfig(flags);
  return loadRunConfig({
    configFile: flags.config,
    env: process.env,
    flags: flags.resume ? mergeResume(await resumeLayer(flags.resume), base) : base,
  });
}
