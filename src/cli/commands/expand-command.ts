import { type Command, InvalidArgumentError, Option } from 'commander';
import { createBackend } from '../create-backend.ts';
import { positiveInteger, nonNegativeInteger } from '../parse-flag.ts';
import { expandPersonas } from '../../personas/expansion/expand-personas.ts';
import { formatExpansionStats } from '../../personas/expansion/format-expansion-stats.ts';
import { loadAttributeSource } from '../../personas/load-attribute-source.ts';
import { formatImportSummary, formatImportWarnings } from '../../personas/importers/format-import-summary.ts';
import { EXIT_CODES } from '../handle-cli-error.ts';
import {
  createCliEmbedder,
  createProgressPrinter,
  loadPersonasCliConfig,
  type PersonasCliFlags,
} from './personas-cli-support.ts';

interface ExpandFlags extends PersonasCliFlags {
  seeds: string;
  target: number;
  out: string;
  clusterThreshold?: number;
  steps: number;
  questionsPerStep: number;
  concurrency: number;
  strict?: boolean;
}

function clusterDistance(value: string): number {
  const number = Number(value);
  if (!(number > 0 && number <= 2))
    throw new InvalidArgumentError(`Expected a cosine distance in (0, 2], got "${value}".`);
  return number;
}

export function registerExpandCommand(program: Command): void {
  program
    .command('expand')
    .description('Persona expansion: cluster seed attributes, induce and bootstrap questions, bootstrap new attributes')
    .requiredOption(
      '--seeds <file>',
      'seed attributes (JSONL {"id","text","category"}) or a seed dataset (Persona-Chat, SPC CSV, JSONL)',
    )
    .requiredOption('--target <n>', 'attributes wanted in the output, seeds included', positiveInteger)
    .requiredOption(
      '--out <file>',
      'output attributes JSONL (with cluster and query); rerun with the same --out to continue',
    )
    .option('--base-url <url>', 'OpenAI-compatible endpoint (env OPENAI_BASE_URL)')
    .option('--model <name>', 'model for induction and bootstrapping')
    .option('--model-path <file.gguf>', 'run on this local GGUF model instead of an endpoint')
    .option('--config <file>', 'YAML or JSON config file (llm and personas sections)')
    .option('--seed <n>', 'seed for every random choice (default 1)', nonNegativeInteger)
    .option(
      '--cluster-threshold <distance>',
      'average-linkage cosine distance below which clusters merge (default 0.8)',
      clusterDistance,
    )
    .option('--steps <n>', 'query bootstrapping steps (paper: 100)', nonNegativeInteger, 20)
    .option('--questions-per-step <n>', 'new questions asked for per bootstrapping step', positiveInteger, 5)
    .option('--concurrency <n>', 'LLM requests in flight', positiveInteger, 4)
    .addOption(
      new Option('--embedder <kind>', 'embedding model kind (default lexical)').choices(['lexical', 'openai', 'local']),
    )
    .option('--embedding-model <name>', 'embedding model name (openai) or GGUF path (local)')
    .option('--embedding-base-url <url>', 'embeddings endpoint (default: --base-url)')
    .option(
      '--strict',
      'stop (exit 2) at the first --seeds record that cannot be imported instead of skipping it (also personas.strict)',
    )
    .action(async (flags: ExpandFlags) => {
      const { config, personas } = await loadPersonasCliConfig(flags, { cluster_threshold: flags.clusterThreshold });
      const { attributes: seeds, summary: importSummary } = await loadAttributeSource(flags.seeds, {
        strict: flags.strict === true || personas.strict,
      });
      for (const warning of formatImportWarnings(importSummary)) process.stderr.write(`${warning}\n`);
      process.stderr.write(`${formatImportSummary(importSummary)}\n`);
      const embedder = await createCliEmbedder(config, personas);
      const created = await createBackend(config, process.env);
      process.stderr.write(
        `expand: ${seeds.length} seed attributes -> ${flags.target}; ${created.description}; embedder ${embedder.kind}\n`,
      );
      const controller = new AbortController();
      const onSignal = () => {
        process.stderr.write('stopping after the current batch; rerun the same command to continue\n');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      const progress = createProgressPrinter();
      try {
        const result = await expandPersonas(
          {
            seeds,
            target: flags.target,
            out: flags.out,
            seed: config.seed,
            clusterThreshold: personas.cluster_threshold,
            nearDuplicateThreshold: personas.redundancy_threshold,
            queryBootstrapSteps: flags.steps,
            questionsPerStep: flags.questionsPerStep,
            concurrency: flags.concurrency,
            temperature: config.llm.temperature,
            importSummary,
          },
          {
            backend: created.backend,
            embedder,
            signal: controller.signal,
            onProgress: (event) => progress(event.phase, event.done, event.total, `(${event.attributes} attributes)`),
          },
        );
        process.stdout.write(`${formatExpansionStats(result.stats)}\n`);
        process.stdout.write(
          `attributes: ${flags.out}${result.resumed ? ' (continued)' : ''}\nstatistics: ${result.statsPath}\n`,
        );
        if (!result.stats.complete) {
          process.stdout.write(
            `Stopped at ${result.stats.expanded.attributes} of ${flags.target} attributes; rerun the same command to continue.\n`,
          );
          process.exitCode = controller.signal.aborted ? EXIT_CODES.interrupted : EXIT_CODES.failure;
        }
      } finally {
        process.off('SIGINT', onSignal);
        await embedder.dispose();
        await created.dispose();
      }
    });
}
