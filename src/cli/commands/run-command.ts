import { Option, type Command } from 'commander';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { openBullMqCoordinator } from '../../executors/bullmq-coordinator.ts';
import { rateLimitsFromEnv } from '../../llm/rate-limits.ts';
import { createBackend } from '../create-backend.ts';
import { createLogger } from '../create-logger.ts';
import { createProgressReporter } from '../create-progress-reporter.ts';
import { formatSummary } from '../format-summary.ts';
import { EXIT_CODES } from '../handle-cli-error.ts';
import { addRunOptions, resolveRunConfig, type RunFlags } from '../run-options.ts';

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('Generate a dataset with the Generator-Critic loop'))
    .option('--resume <run-dir>', 'continue a stopped run in this directory')
    .addOption(
      new Option(
        '--redis <url>',
        'run pair jobs on `persona-forge worker` processes through this Redis (redis:// or rediss://)',
      ).env('PF_REDIS_URL'),
    )
    .action(async (flags: RunFlags) => {
      const logger = createLogger(flags.logLevel);
      const config = await resolveRunConfig(flags);
      const scaleOut = flags.redis
        ? await openBullMqCoordinator({
            redisUrl: flags.redis,
            limits: rateLimitsFromEnv(process.env),
            onEvent: (event, fields) => logger.info(fields, event),
          })
        : undefined;
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
          backend: created.adapter,
          stores: scaleOut?.storesFor(config),
          createExecutor: scaleOut?.createExecutor,
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
        await scaleOut?.close();
      }
    });
}
