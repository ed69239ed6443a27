import { existsSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { defaultRunId, runPipeline } from '../../pipeline/run-pipeline.ts';
import { openBullMqCoordinator } from '../../executors/bullmq-coordinator.ts';
import { rateLimitsFromEnv } from '../../llm/rate-limits.ts';
import { usesOpenAiEndpoint } from '../../llm/shared-endpoint.ts';
import type { Manifest } from '../../schemas/manifest.ts';
import { createBackend } from '../create-backend.ts';
import { chooseLogDestinations, createLogger } from '../create-logger.ts';
import { createProgressReporter } from '../create-progress-reporter.ts';
import { formatSummary } from '../format-summary.ts';
import { EXIT_CODES } from '../handle-cli-error.ts';
import { addRunOptions, resolveRunConfig, type RunFlags } from '../run-options.ts';
import { RunLogFile } from '../run-log-file.ts';
import { StopOnSignals } from '../stop-on-signals.ts';
import { checkOutputDirectory } from '../check-output-directory.ts';
import { checkRunDirectory } from '../check-run-directory.ts';
import { checkModelFile, modelLoadFailure } from '../check-model-file.ts';
import { probeEndpoint } from '../probe-endpoint.ts';
import { withContextLength } from '../../llm/with-context-length.ts';
import { isBadInput } from '../is-bad-input.ts';
import { applyBatchMode } from '../../llm/batch/apply-batch-mode.ts';
import { ConfigError } from '../../errors.ts';

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('Generate a dataset with the Generator-Critic loop'))
    .option('--resume <run-dir>', 'continue a stopped run in this directory')
    .addOption(
      new Option(
        '--redis <url>',
        'run pair jobs on `persona-forge worker` processes through this Redis (redis:// or rediss://)',
      ).env('PF_REDIS_URL'),
    )
    .action(async (flags: RunFlags, command: Command) => {
      const terminal = Boolean(process.stderr.isTTY);
      const where = chooseLogDestinations({
        terminal,
        logLevelGiven: command.getOptionValueSource('logLevel') === 'cli',
      });
      const plainNotice = (message: string): void =>
        void process.stderr.write(`${terminal ? '\r\x1b[2K' : ''}persona-forge: ${message}\n`);
      // Until the logger exists (it needs the run directory's name), notices are plain lines.
      let notify = (message: string) => plainNotice(message);
      const stopper = new StopOnSignals((message, signal) => notify(`${message} (${signal})`));
      let runLog: RunLogFile | undefined;
      try {
        const notices: string[] = [];
        const config = await resolveRunConfig(flags, (line) => notices.push(line));
        // The run id is fixed here so the run log's place is known before the directory exists.
        config.run_id ??= defaultRunId(new Date(), config.seed);
        // --batch: every pair of an iteration in flight at once, so each stage is one batch.
        Object.assign(config, applyBatchMode(config));
        if (config.llm.batch && flags.redis)
          throw new ConfigError('--batch runs in process: drop --redis, or drop --batch');
        if (config.llm.batch) {
          stopper.signal.addEventListener('abort', () =>
            notify(
              '--batch: batches in flight keep running at the provider (nothing is cancelled); the pairs waiting for them are left for --resume, which re-attaches to those batches',
            ),
          );
        }
        const runDir = resolve(config.out, config.run_id);
        runLog = new RunLogFile(join(runDir, 'run.log'));
        const logger = createLogger(flags.logLevel, {
          stderr: where.stderr,
          clearLiveLine: where.liveLine,
          file: runLog,
        });
        notify = (message) => {
          logger.warn(message);
          if (!where.stderr) plainNotice(message);
        };
        for (const line of notices) notify(line);

        // Nothing is created until every input is known to be good and the endpoint or model answered.
        await checkOutputDirectory(flags.resume ? runDir : config.out, flags.resume ? '--resume' : '--out');
        if (!flags.resume) await checkRunDirectory(config);
        if (!usesOpenAiEndpoint(config.llm) && config.llm.model_path) await checkModelFile(config.llm.model_path);
        const scaleOut = flags.redis
          ? await openBullMqCoordinator({
              redisUrl: flags.redis,
              limits: rateLimitsFromEnv(process.env),
              onEvent: (event, fields) => logger.info(fields, event),
            })
          : undefined;
        const created = await createBackend(config, process.env, { signal: stopper.signal }).catch((error: unknown) => {
          throw usesOpenAiEndpoint(config.llm) ? error : modelLoadFailure(error, config.llm.model_path);
        });
        logger.info({ backend: created.description }, 'backend ready');

        stopper.running();
        const startedAt = Date.now();
        const reporter = createProgressReporter({ liveLine: where.liveLine, stream: process.stderr, logger });
        const runDirExisted = existsSync(runDir);
        try {
          const result = await runPipeline(config, {
            backend: created.adapter,
            stores: scaleOut?.storesFor(config),
            createExecutor: scaleOut?.createExecutor,
            signal: stopper.signal,
            // After the seed, critic and template files are checked: the endpoint must answer and accept the key;
            // the context length its /models entry publishes fits the prompts (llm.context_length wins).
            beforeRunDirectory: async () =>
              usesOpenAiEndpoint(config.llm)
                ? withContextLength(
                    created.adapter,
                    (await probeEndpoint(config.llm, process.env, stopper.signal)).contextTokens,
                    'endpoint',
                  )
                : undefined,
            onProgress: (progress) => reporter.update(progress),
            // A seed record left out of `personas.source` is a warning the user sees, in a terminal too.
            onEvent: (event, fields) => {
              if (event === 'seed record skipped') {
                notify(
                  `warning: ${String(fields.file)}:${String(fields.line)}: skipped (${String(fields.reason)}): ${String(fields.message)}`,
                );
                return;
              }
              logger.info(fields, event);
              if (event === 'planning progress') {
                const planning = fields as {
                  calls: number;
                  tokens: number;
                  cost_usd: number;
                  pairs_planned?: number;
                  pairs_total?: number;
                  eta_s?: number | null;
                };
                reporter.planning({
                  calls: planning.calls,
                  tokens: planning.tokens,
                  costUsd: planning.cost_usd,
                  elapsedMs: Date.now() - startedAt,
                  ...(planning.pairs_total !== undefined && {
                    pairs: {
                      planned: planning.pairs_planned ?? 0,
                      total: planning.pairs_total,
                      etaMs: planning.eta_s == null ? null : planning.eta_s * 1000,
                    },
                  }),
                });
              }
              // Calls, tokens and (embedded model) time, before the first pair starts; shown in a terminal too.
              if (event === 'run projected' && !where.stderr) plainNotice(String(fields.summary));
            },
          });
          reporter.finish();
          process.stdout.write(`${formatSummary(result.manifest, result.runDir)}\n`);
          reportEnding(result.manifest, result.runDir);
        } catch (error) {
          // Bad input found once the run had begun (e.g. HTTP 404 for the model at the first call):
          // a run directory this command created and no pair finished in is removed, not left half-made.
          if (!runDirExisted && isBadInput(error)) removeUnstartedRun(runDir);
          throw error;
        } finally {
          reporter.finish();
          await created.dispose();
          await scaleOut?.close();
        }
      } finally {
        stopper.dispose();
        runLog?.close();
      }
    });
}

/** Removes a run directory in which no pair finished (no `outcomes.jsonl` line). */
function removeUnstartedRun(runDir: string): void {
  const outcomes = join(runDir, 'outcomes.jsonl');
  if (existsSync(outcomes) && statSync(outcomes).size > 0) return;
  rmSync(runDir, { recursive: true, force: true });
}

/** The line after the summary and the exit code: how the run ended and how to continue it. */
function reportEnding(manifest: Manifest, runDir: string): void {
  if (manifest.status === 'budget_exhausted') {
    const cap = /--max-(tokens|cost)/.exec(manifest.stop_reason ?? '')?.[0] ?? '--max-cost';
    process.stdout.write(
      `Budget reached (${cap}). Continue with: persona-forge run --resume ${runDir} ${cap} <higher>\n`,
    );
    process.exitCode = EXIT_CODES.budgetExhausted;
  } else if (manifest.status === 'interrupted') {
    process.stdout.write(`Interrupted. Continue with: persona-forge run --resume ${runDir}\n`);
    process.exitCode = EXIT_CODES.interrupted;
  } else if (manifest.totals.failed > 0) {
    process.stdout.write(
      `${manifest.totals.failed} pair(s) failed (errors in outcomes.jsonl); retry them with: persona-forge run --resume ${runDir}\n`,
    );
    process.exitCode = EXIT_CODES.failure;
  }
}
