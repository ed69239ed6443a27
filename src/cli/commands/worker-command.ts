import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { ConfigError } from '../../errors.ts';
import { rateLimitsFromEnv, RATE_LIMIT_ENV } from '../../llm/rate-limits.ts';
import type { RunConfig } from '../../schemas/run-config.ts';
import { startBullMqWorker, type WorkerBackend } from '../../executors/bullmq-worker.ts';
import { DEFAULT_KEY_PREFIX, PAIR_JOBS_QUEUE } from '../../executors/bullmq-keys.ts';
import { parseRedisUrl, redactRedisUrl } from '../../executors/redis/redis-connection.ts';
import { createBackend } from '../create-backend.ts';
import { createLogger } from '../create-logger.ts';
import { positiveInteger } from '../parse-flag.ts';

interface WorkerFlags {
  redis?: string;
  concurrency: number;
  baseUrl?: string;
  modelPath?: string;
  prefix: string;
  maxInFlight?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  leaseMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  shutdownGraceMs: number;
  logLevel: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'Run pair jobs from Redis for `persona-forge run --redis` coordinators (stateless; scale by starting more)',
    )
    // No argument parser on the URL: commander would echo a bad value, password included.
    .addOption(
      new Option('--redis <url>', 'Redis URL, redis://host:6379 or rediss://:password@host:6380').env('PF_REDIS_URL'),
    )
    .addOption(
      new Option('--concurrency <n>', 'pair jobs this process runs at once')
        .argParser(positiveInteger)
        .default(4)
        .env('PF_WORKER_CONCURRENCY'),
    )
    .addOption(
      new Option('--base-url <url>', "this worker's OpenAI-compatible endpoint (default: the run's)").env(
        'OPENAI_BASE_URL',
      ),
    )
    .option('--model-path <file.gguf>', "run the run's jobs on this local GGUF model instead")
    .addOption(
      new Option('--prefix <prefix>', 'Redis key prefix of the deployment (same as the coordinator)')
        .default(DEFAULT_KEY_PREFIX)
        .env('PF_KEY_PREFIX'),
    )
    .addOption(
      new Option(
        '--max-in-flight <n>',
        `LLM requests in flight across ALL workers per endpoint (default: the run's llm.max_in_flight; env ${RATE_LIMIT_ENV.maxInFlight})`,
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--requests-per-minute <n>',
        `requests per minute across all workers per endpoint (env ${RATE_LIMIT_ENV.requestsPerMinute})`,
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--tokens-per-minute <n>',
        `tokens per minute across all workers per endpoint (env ${RATE_LIMIT_ENV.tokensPerMinute})`,
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--lease-ms <ms>',
        'in-flight slot lease: a killed worker frees its slots after this (default 30000)',
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--lock-duration-ms <ms>',
        'job lock: a killed worker loses its jobs to others after about this (default 30000)',
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--stalled-interval-ms <ms>',
        'how often jobs of dead workers are looked for (default 30000)',
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--shutdown-grace-ms <ms>',
        'on SIGTERM/SIGINT, wait this long for running jobs, then put them back in the queue',
      )
        .argParser(positiveInteger)
        .default(25_000)
        .env('PF_SHUTDOWN_GRACE_MS'),
    )
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['fatal', 'error', 'warn', 'info', 'debug'])
        .default('info'),
    )
    .action(async (flags: WorkerFlags) => {
      const logger = createLogger(flags.logLevel);
      if (!flags.redis)
        throw new ConfigError('missing --redis: pass the Redis URL the coordinator uses (or set PF_REDIS_URL)');
      parseRedisUrl(flags.redis); // fail now, with the password redacted, on a bad URL
      const redacted = redactRedisUrl(flags.redis);
      const fromEnv = rateLimitsFromEnv(process.env);
      const limits = {
        maxInFlight: flags.maxInFlight ?? fromEnv.maxInFlight,
        requestsPerMinute: flags.requestsPerMinute ?? fromEnv.requestsPerMinute,
        tokensPerMinute: flags.tokensPerMinute ?? fromEnv.tokensPerMinute,
      };

      const worker = await startBullMqWorker({
        redisUrl: flags.redis,
        prefix: flags.prefix,
        concurrency: flags.concurrency,
        limits,
        leaseMs: flags.leaseMs,
        lockDurationMs: flags.lockDurationMs,
        stalledIntervalMs: flags.stalledIntervalMs,
        name: `${hostname()}:${process.pid}`,
        createBackend: (config) => createWorkerBackend(config, flags, (fields) => logger.info(fields, 'backend ready')),
        onEvent: (event, fields) => {
          if (event === 'job done') logger.debug(fields, event);
          else if (event === 'redis error' || event === 'job failed') logger.warn(fields, event);
          else logger.info(fields, event);
        },
      });
      await worker.ready();
      logger.info(
        { redis: redacted, queue: `${flags.prefix}:${PAIR_JOBS_QUEUE}`, concurrency: flags.concurrency, limits },
        'worker ready',
      );

      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals > 1) {
            logger.warn({ signal }, 'putting running jobs back in the queue now');
            worker.release();
            return;
          }
          logger.info(
            { signal, grace_ms: flags.shutdownGraceMs },
            'stopping: no new jobs; finishing the running ones (signal again to hand them back now)',
          );
          void worker.close(flags.shutdownGraceMs).then(() => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            logger.info({}, 'worker stopped');
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
}

/** This worker's backend for a run: its own endpoint and key, the run's model names and settings. */
async function createWorkerBackend(
  config: RunConfig,
  flags: WorkerFlags,
  onReady: (fields: Record<string, unknown>) => void,
): Promise<WorkerBackend> {
  const llm = { ...config.llm };
  if (flags.modelPath) Object.assign(llm, { provider: 'local', model_path: flags.modelPath });
  else if (flags.baseUrl) Object.assign(llm, { provider: 'openai', base_url: flags.baseUrl });
  if (process.env.OPENAI_API_KEY) llm.api_key = process.env.OPENAI_API_KEY;
  const workerConfig: RunConfig = { ...config, llm };
  const created = await createBackend(workerConfig, process.env);
  onReady({ backend: created.description });
  return {
    backend: created.adapter,
    dispose: created.dispose,
    // A local model serves this process only: its limits are not shared.
    endpoint: created.sharedEndpoint ?? `local:${hostname()}:${process.pid}`,
  };
}
