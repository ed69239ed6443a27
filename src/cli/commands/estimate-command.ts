import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { estimateRun } from '../../pipeline/estimate-run.ts';
import { createBackend } from '../create-backend.ts';
import { createLogger } from '../create-logger.ts';
import { formatDuration } from '../format-duration.ts';
import { positiveInteger } from '../parse-flag.ts';
import { usesOpenAiEndpoint } from '../../llm/shared-endpoint.ts';
import { StopOnSignals } from '../stop-on-signals.ts';
import { probeEndpoint } from '../probe-endpoint.ts';
import { withContextLength } from '../../llm/with-context-length.ts';
import { checkModelFile } from '../check-model-file.ts';
import { addRunOptions, resolveRunConfig, type RunFlags } from '../run-options.ts';

export function registerEstimateCommand(program: Command): void {
  addRunOptions(
    program
      .command('estimate')
      .description('Run a small sample of a run and project its tokens, cost and time (same options as run)'),
  )
    .option('--sample-pairs <n>', 'pairs in the sample (default 3)', positiveInteger)
    .option('--json', 'print the estimate as JSON')
    .action(async (flags: RunFlags & { samplePairs?: number; json?: boolean }) => {
      const logger = createLogger(flags.logLevel === 'info' ? 'warn' : flags.logLevel);
      // The sample's run directory is temporary: removed at the end, on errors and on a signal.
      let sampleDir: string | undefined;
      const removeSample = () => {
        if (sampleDir) rmSync(sampleDir, { recursive: true, force: true });
      };
      const stopper = new StopOnSignals(
        (message, signal) => logger.warn({ signal }, message.replace('the run', 'the estimate')),
        removeSample,
      );
      try {
        await estimate(flags, logger, (path) => (sampleDir = path));
      } finally {
        removeSample();
        stopper.dispose();
      }
    });
}

async function estimate(
  flags: RunFlags & { samplePairs?: number; json?: boolean },
  logger: Logger,
  sampleDirCreated: (path: string) => void,
) {
  const config = await resolveRunConfig(flags);
  const probe = usesOpenAiEndpoint(config.llm) ? await probeEndpoint(config.llm, process.env) : undefined;
  if (!probe && config.llm.model_path) await checkModelFile(config.llm.model_path);
  // --batch: the sample is sent directly (estimateRun prices the projection at batch prices).
  const created = await createBackend({ ...config, llm: { ...config.llm, batch: false } }, process.env);
  try {
    const sampleDir = await mkdtemp(join(tmpdir(), 'persona-forge-estimate-'));
    sampleDirCreated(sampleDir);
    logger.info({ sample_dir: sampleDir }, 'running the sample');
    // The context length the endpoint's /models entry publishes fits the prompts (llm.context_length wins).
    const backend = withContextLength(created.adapter, probe?.contextTokens, 'endpoint');
    const estimate = await estimateRun(config, { backend, sampleDir, samplePairs: flags.samplePairs });
    if (flags.json) {
      // The sample's directory is removed when the command ends: its path would name nothing.
      const { runDir: _removed, ...sample } = estimate.sample;
      process.stdout.write(`${JSON.stringify({ ...estimate, sample }, null, 2)}\n`);
      return;
    }
    const { sample, projection } = estimate;
    const number = (value: number) => Math.round(value).toLocaleString('en-US');
    process.stdout.write(
      [
        `sample: ${sample.pairs} pair(s), ${sample.accepted} accepted (${(sample.acceptanceRate * 100).toFixed(0)}%), ` +
          `${number(sample.tokensPerPair.generator + sample.tokensPerPair.critic)} tokens per pair, ` +
          `${sample.tokensPerAccepted === null ? 'n/a' : number(sample.tokensPerAccepted)} per accepted conversation, ` +
          `$${sample.costUsd.toFixed(4)}, ${formatDuration(sample.wallMs)}`,
        `projection for the requested run:`,
        `  pairs            ${number(projection.pairs)}`,
        `  accepted         ${number(projection.accepted)}`,
        `  tokens           ${number(projection.tokens.total)} (generator ${number(projection.tokens.generator)}, critic ${number(projection.tokens.critic)})`,
        `  planning         ${number(projection.planning.tokens)} of those tokens (${number(projection.planning.profiles)} profiles built and checked)`,
        `  cost             $${projection.costUsd.toFixed(2)}`,
        `  time             ${formatDuration(projection.durationMs)}`,
        `how: ${estimate.method}`,
      ].join('\n') + '\n',
    );
  } finally {
    await created.dispose();
  }
}
