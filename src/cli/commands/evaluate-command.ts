import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { OpenAiCompatibleBackend } from '../../llm/openai/openai-compatible-backend.ts';
import { buildLlmStack } from '../../llm/build-llm-stack.ts';
import { EvaluateFlagsSchema, JUDGE_PROTOCOLS, type EvaluateFlags } from '../../schemas/evaluate-flags.ts';
import { evaluateDataset, type JudgeProtocol } from '../../evaluation/evaluate-dataset.ts';
import { formatEvaluationTable } from '../../evaluation/format-evaluation-table.ts';
import { formatImportSummary, formatImportWarnings } from '../../personas/importers/format-import-summary.ts';
import { writeRunReport } from '../../evaluation/write-run-report.ts';
import { writeDatasetCard } from '../../output/write-dataset-card.ts';
import { nonNegativeInteger, positiveInteger } from '../parse-flag.ts';

function protocolList(value: string): JudgeProtocol[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(JUDGE_PROTOCOLS as readonly string[]).includes(name));
  if (unknown.length || !names.length)
    throw new InvalidArgumentError(`Expected a comma-separated list of ${JUDGE_PROTOCOLS.join(', ')}, got "${value}".`);
  return names as JudgeProtocol[];
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('Measure a run or dataset file (statistics, optional LLM-judge tests) and write evaluation.json')
    .argument('<path>', 'run directory, or a dataset file: our JSONL or Parquet, SPC CSV, Persona-Chat text')
    .option('--reference <file>', 'reference dataset shown side by side and used by the AI-detection test')
    .option('--out <file>', 'where to write the JSON (default: <run-dir>/evaluation.json or <file>.evaluation.json)')
    .option('--json', 'print the evaluation JSON instead of the table')
    .option('--no-report', 'do not rewrite report.html (run directories only)')
    .option('--judge <model>', 'run the LLM-judge protocols with this model (an OpenAI-compatible endpoint)')
    .option('--judge-base-url <url>', 'judge endpoint base URL (default: OPENAI_BASE_URL)')
    .option('--judge-samples <n>', 'conversations judged per iteration (default 50)', positiveInteger)
    .option('--judge-protocols <list>', `comma-separated: ${JUDGE_PROTOCOLS.join(', ')} (default both)`, protocolList)
    .option('--judge-concurrency <n>', 'trials judged at once (default 4)', positiveInteger)
    .option('--seed <n>', 'seed of the judge sampling and pairing (default 1)', nonNegativeInteger)
    .option('--strict', 'stop (exit 2) at the first record that cannot be imported instead of skipping it')
    .action(async (path: string, rawFlags: EvaluateFlags) => {
      const parsed = EvaluateFlagsSchema.safeParse(rawFlags);
      if (!parsed.success) {
        throw new ConfigError(
          'Invalid evaluate options',
          parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`),
        );
      }
      const flags = parsed.data;
      let judgeBackend: OpenAiCompatibleBackend | undefined;
      if (flags.judge) {
        const baseUrl = flags.judgeBaseUrl ?? process.env.OPENAI_BASE_URL;
        if (!baseUrl)
          throw new ConfigError('The judge needs an endpoint: pass `--judge-base-url URL` or set `OPENAI_BASE_URL`.');
        judgeBackend = new OpenAiCompatibleBackend({
          baseUrl,
          // Secrets come from the environment only, never from flags (shell history, process lists).
          apiKey: process.env.OPENAI_API_KEY,
          generatorModel: flags.judge,
          criticModel: flags.judge,
        });
      }
      try {
        const { result, outputPath } = await evaluateDataset({
          input: path,
          reference: flags.reference,
          outputPath: flags.out,
          judge: judgeBackend && {
            backend: buildLlmStack({ adapter: judgeBackend, maxInFlight: flags.judgeConcurrency }),
            seed: flags.seed,
            samplesPerGroup: flags.judgeSamples,
            protocols: flags.judgeProtocols,
            concurrency: flags.judgeConcurrency,
          },
          onProgress: (message) => process.stderr.write(`${message}\n`),
          strict: flags.strict,
        });
        for (const input of [result.dataset, result.reference]) {
          if (!input?.import_notes) continue;
          for (const warning of formatImportWarnings(input.import_notes)) process.stderr.write(`${warning}\n`);
          // The import line goes with the table on stdout, and to stderr when stdout is JSON.
          (flags.json ? process.stderr : process.stdout).write(`${formatImportSummary(input.import_notes)}\n`);
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else process.stdout.write(`${formatEvaluationTable(result)}\n\nwrote ${outputPath}\n`);

        const isRunDirectory = statSync(path).isDirectory();
        if (isRunDirectory && flags.report && !flags.out) {
          const reportPath = await writeRunReport(path, { evaluation: result, reference: flags.reference });
          if (existsSync(join(path, 'README.md'))) await writeDatasetCard(path);
          if (!flags.json) process.stdout.write(`wrote ${reportPath}\n`);
        }
      } finally {
        await judgeBackend?.dispose();
      }
    });
}
