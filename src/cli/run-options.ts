import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { loadRunConfig } from '../config/load-run-config.ts';
import { RunConfigSchema, type RunConfig, type RunConfigInput } from '../schemas/run-config.ts';
import { boundsOf, integerFlag, positiveInteger, positiveNumber } from './parse-flag.ts';
import { localModelDefaultsFor } from '../llm/llama/local-model-defaults.ts';
import { diffConfigs, formatChange } from '../config/diff-configs.ts';

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
  filters?: 'separate' | 'folded' | 'combined';
  batch?: boolean;
  maxCost?: number;
  maxTokens?: number;
  resume?: string;
  redis?: string;
  logLevel: string;
}

/** The accepted range of an integer flag, read from its key in `RunConfigSchema`. */
const boundsOfKey = (key: 'iterations' | 'pairs' | 'target' | 'candidates' | 'concurrency' | 'seed') =>
  boundsOf(RunConfigSchema.shape[key]);
const flagFor = (key: Parameters<typeof boundsOfKey>[0]) => integerFlag(boundsOfKey(key));
const range = (key: Parameters<typeof boundsOfKey>[0]) => {
  const { min, max } = boundsOfKey(key);
  return `${min} to ${max.toLocaleString('en-US')}`;
};

export function addRunOptions(command: Command): Command {
  return command
    .option('--base-url <url>', 'OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (env OPENAI_BASE_URL)')
    .option('--model <name>', 'generator model (default gpt-4o-mini on an endpoint)')
    .option('--critic-model <name>', 'critic model (default: the generator model)')
    .option('--model-path <file.gguf>', 'run on this local GGUF model instead of an endpoint')
    .option(
      '--iterations <n>',
      `Generator-Critic iterations, ${range('iterations')} (default 3)`,
      flagFor('iterations'),
    )
    .option('--pairs <n>', `pairs per iteration, ${range('pairs')} (default 10)`, flagFor('pairs'))
    .option(
      '--target <n>',
      `exactly this many accepted conversations, ${range('target')} (over-generates pairs; ignores --pairs)`,
      flagFor('target'),
    )
    .option('--candidates <n>', `candidates per pair, ${range('candidates')} (default 4)`, flagFor('candidates'))
    .option('--concurrency <n>', `pairs in flight at once, ${range('concurrency')} (default 4)`, flagFor('concurrency'))
    .option('--out <dir>', 'root of run directories (default output)')
    .option('--run-id <id>', 'run directory name (default: time and seed)')
    .option('--seed <n>', `seed for every random choice, ${range('seed')} (default 1)`, flagFor('seed'))
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
      new Option(
        '--second-order <when>',
        'ask the second presentation order always (paper) or only when the first answer is uncertain',
      ).choices(['always', 'when-uncertain']),
    )
    .addOption(
      new Option(
        '--filters <mode>',
        'faithfulness/toxicity filters: one call each (separate), folded into the listwise call, or combined (one call per candidate answers both)',
      ).choices(['separate', 'folded', 'combined']),
    )
    .option('--batch', 'send the LLM calls through the OpenAI Batch API (50% off, results within 24 h; resumable)')
    .option('--max-cost <usd>', 'stop admitting work once the run has cost this much', positiveNumber)
    .option('--max-tokens <n>', 'stop admitting work once the run has used this many tokens', positiveInteger)
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['fatal', 'error', 'warn', 'info', 'debug'])
        .default('info'),
    );
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
      ...(flags.batch && { batch: true }),
      ...(flags.baseUrl ? { provider: 'openai' as const } : flags.modelPath ? { provider: 'local' as const } : {}),
    },
    critique: {
      critics_dir: flags.critics,
      panel: flags.panel,
      selection: flags.selection,
      second_order: flags.secondOrder,
      filters: flags.filters,
    },
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
    throw new ConfigError(
      `cannot resume: ${configPath} is missing or unreadable; pass the run directory printed by the first run`,
    );
  }
  if (!stored.config || typeof stored.config !== 'object')
    throw new ConfigError(`cannot resume: ${configPath} has no "config" section`);
  return { ...(stored.config as RunConfigInput), out: dirname(resolve(runDir)), run_id: basename(resolve(runDir)) };
}

/** The flag that sets each config key, for messages. */
const FLAG_OF_KEY: Record<string, string> = {
  out: '--out',
  run_id: '--run-id',
  seed: '--seed',
  iterations: '--iterations',
  pairs: '--pairs',
  target: '--target',
  candidates: '--candidates',
  concurrency: '--concurrency',
  'llm.base_url': '--base-url',
  'llm.model': '--model',
  'llm.critic_model': '--critic-model',
  'llm.model_path': '--model-path',
  'critique.critics_dir': '--critics',
  'critique.panel': '--panel',
  'critique.selection': '--selection',
  'critique.second_order': '--second-order',
  'critique.filters': '--filters',
  'budget.max_cost_usd': '--max-cost',
  'budget.max_tokens': '--max-tokens',
};

/** What `--resume` may change: how fast and how far the run goes, never what it produces. */
export const RESUME_CHANGEABLE_KEYS = ['concurrency', 'budget.max_cost_usd', 'budget.max_tokens'] as const;

/**
 * On resume the stored config is the base; flags that repeat a stored value are fine, flags from
 * `RESUME_CHANGEABLE_KEYS` are applied (and reported through `notice`), and any other changed flag
 * is refused with every changed key and its old and new value.
 */
function mergeResume(
  runDir: string,
  stored: RunConfigInput,
  flags: RunConfigInput,
  notice: (line: string) => void,
): RunConfigInput {
  // `llm.provider` is derived from --base-url / --model-path, not chosen by the user.
  const { provider: _provider, ...flagLlm } = flags.llm ?? {};
  const given = diffConfigs({}, { ...flags, llm: flagLlm }).filter((change) => change.after !== undefined);
  const placement = given.filter((change) => change.path === 'out' || change.path === 'run_id');
  if (placement.length) {
    throw new ConfigError(
      `--resume ${runDir} already names the run directory; drop ${placement.map((change) => FLAG_OF_KEY[change.path]).join(' and ')}`,
    );
  }
  const changes = given
    .map((change) => ({ ...change, before: valueAt(stored, change.path) }))
    .filter((change) => JSON.stringify(change.before) !== JSON.stringify(change.after));
  const refused = changes.filter((change) => !(RESUME_CHANGEABLE_KEYS as readonly string[]).includes(change.path));
  const label = (path: string) => FLAG_OF_KEY[path] ?? path;
  if (refused.length) {
    throw new ConfigError(
      `cannot resume ${runDir} with changed settings: ${refused.map((change) => formatChange(change, label(change.path))).join(', ')}. ` +
        `They decide what the run produces; drop them to continue the run as it was, or start a new run with another --run-id ` +
        `(only ${RESUME_CHANGEABLE_KEYS.map(label).join(', ')} may change on resume).`,
    );
  }
  if (changes.length) {
    notice(
      `resuming with changed settings (safe mid-run): ${changes.map((change) => formatChange(change, label(change.path))).join(', ')}`,
    );
  }
  const merged = structuredClone(stored) as Record<string, Record<string, unknown>> & RunConfigInput;
  for (const change of changes) {
    const [head, leaf] = change.path.split('.');
    if (leaf === undefined) (merged as Record<string, unknown>)[head] = change.after;
    else merged[head] = { ...merged[head], [leaf]: change.after };
  }
  return merged;
}

function valueAt(value: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (current, key) =>
        current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined,
      value,
    );
}

/**
 * The run config from flags, env and config file — or, with `--resume`, from the run directory.
 * `notice` receives one-line notes for the user (e.g. the settings a resume changed).
 */
export async function resolveRunConfig(flags: RunFlags, notice: (line: string) => void = () => {}): Promise<RunConfig> {
  if (flags.resume && flags.config)
    throw new ConfigError('--resume takes its settings from the run directory; drop --config');
  const base = flagsToConfig(flags);
  return loadRunConfig({
    configFile: flags.config,
    env: process.env,
    // Runs on the embedded model get defaults sized for a CPU (README: "Defaults by backend").
    localModelDefaults: localModelDefaultsFor,
    flags: flags.resume ? mergeResume(flags.resume, await resumeLayer(flags.resume), base, notice) : base,
  });
}
