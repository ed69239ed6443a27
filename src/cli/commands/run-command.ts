import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '../../llm/errors.ts';
import { loadRunConfig } from '../../config/load-run-config.ts';
import type { RunConfigInput } from '../../schemas/run-config.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { createBackend } from '../create-backend.ts';
import { createLogger } from '../create-logger.ts';
import { createProgressReporter } from '../create-progress-reporter.ts';
import { formatSummary } from '../format-summary.ts';
import { EXIT_CODES } from '../handle-cli-error.ts';
import { positiveInteger, nonNegativeInteger, positiveNumber } from '../parse-flag.ts';

interface RunFlags {
  baseUrl?: string;
  model?: string;
  criticModel?: string;
  modelPath?: string;
  iterations?: number;
  pairs?: number;
  candidates?: number;
  concurrency?: number;
  out?: string;
  runId?: string;
  seed?: number;
  config?: string;
  critics?: string;
  maxCost?: number;
  maxTokens?: number;
  resume?: string;
  logLevel: string;
}

/** Maps flags onto the config shape; absent flags stay undefined so lower layers show through. */
function flagsToConfig(flags: RunFlags): RunConfigInput {
  return {
    out: flags.out,
    run_id: flags.runId,
    seed: flags.seed,
    iterations: flags.iterations,
    pairs: flags.pairs,
    candidates: flags.candidates,
    concurrency: flags.concurrency,
    llm: {
      base_url: flags.baseUrl,
      model: flags.model,
      critic_model: flags.criticModel,
      model_path: flags.modelPath,
      ...(flags.baseUrl ? { provider: 'openai' as const } : flags.modelPath ? { provider: 'local' as const } : {}),
    },
    critique: { critics_dir: flags.critics },
    budget: { max_cost_usd: flags.maxCost, max_tokens: flags.maxTokens },
  };
}

/** For `--resume DIR`: the stored config becomes the base layer, and the run lands in DIR again. */
async function resumeLayer(runDir: string): Promise<{ file: string; flags: RunConfigInput }> {
  const configPath = join(runDir, 'config.json');
  let stored: { config?: unknown };
  try {
    stored = JSON.parse(await readFile(configPath, 'utf8'));
  } catch {
    throw new ConfigError(`cannot resume: ${configPath} is missing or unreadable; pass the run directory printed by the first run`);
  }
  if (!stored.config || typeof stored.config !== 'object') throw new ConfigError(`cannot resume: ${configPath} has no "config" section`);
  return { file: configPath, flags: { ...(stored.config as RunConfigInput), out: dirname(resolve(runDir)), run_id: basename(resolve(runDir)) } };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Generate a dataset with the Generator-Critic loop')
    .option('--base-url <url>', 'OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (env OPENAI_BASE_URL)')
    .option('--model <name>', 'generator model (default gpt-4o-mini on an endpoint)')
    .option('--critic-model <name>', 'critic model (default: the generator model)')
    .option('--model-path <file.gguf>', 'run on this local GGUF model instead of an endpoint')
    .option('--iterations <n>', 'Generator-Critic iterations (default 3)', positiveInteger)
    .option('--pairs <n>', 'pairs per iteration (default 10)', positiveInteger)
    .option('--candidates <n>', 'candidates per pair (default 4)', positiveInteger)
    .option('--concurrency <n>', 'pairs in flight at once (default 4)', positiveInteger)
    .option('--out <dir>', 'root of run directories (default output)')
    .option('--run-id <id>', 'run directory name (default: time and seed)')
    .option('--seed <n>', 'seed for every random choice (default 1)', nonNegativeInteger)
    .option('--config <file>', 'YAML or JSON config file (flags > env > file > defaults)')
    .option('--critics <dir>', 'directory of critic files that add to or replace the built-in critics/')
    .option('--max-cost <usd>', 'stop admitting work once the run has cost this much', positiveNumber)
    .option('--max-tokens <n>', 'stop admitting work once the run has used this many tokens', positiveInteger)
    .option('--resume <run-dir>', 'continue a stopped run in this directory')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
    .action(async (flags: RunFlags) => {
      const logger = createLogger(flags.logLevel);
      const resume = flags.resume ? await resumeLayer(flags.resume) : undefined;
      if (resume && flags.config) throw new ConfigError('--resume takes its settings from the run directory; drop --config');
      const config = await loadRunConfig({
        configFile: flags.config,
        env: process.env,
        flags: resume ? mergeResume(resume.flags, flagsToConfig(flags)) : flagsToConfig(flags),
      });
      const created = await createBackend(config, process.env);
      logger.info({ backend: created.description }, 'backend ready');

      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        interrupts += 1;
        if (interrupts > 1) process.exit(EXIT_CODES.interrupted);
        logger.warn({ signal }, 'stopping: no new pairs are started; finishing the ones in flight (press Ctrl-C again to quit now)');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      const tty = Boolean(process.stderr.isTTY);
      const reporter = createProgressReporter({ tty, stream: process.stderr, logger });
      try {
        const result = await runPipeline(config, {
          backend: created.backend,
          signal: controller.signal,
          onProgress: (progress) => reporter.update(progress),
          onEvent: (event, fields) => logger.info(fields, event),
        });
        reporter.finish();
        process.stdout.write(`${formatSummary(result.manifest, result.runDir)}\n`);
        if (result.manifest.status === 'budget_exhausted') {
          process.stdout.write(`Budget reached. Continue with: persona-forge run --resume ${result.runDir} --max-cost <higher>\n`);
          process.exitCode = EXIT_CODES.budgetExhausted;
        } else if (result.manifest.status === 'interrupted') {
          process.stdout.write(`Interrupted. Continue with: persona-forge run --resume ${result.runDir}\n`);
          process.exitCode = EXIT_CODES.interrupted;
        } else if (result.manifest.totals.failed > 0) {
          process.stdout.write(
            `${result.manifest.totals.failed} pair(s) failed (errors in outcomes.jsonl); retry them with: persona-forge run --resume ${result.runDir}\n`,
          );
          process.exitCode = EXIT_CODES.failure;
        }
      } finally {
        reporter.finish();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await created.dispose();
      }
    });
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
