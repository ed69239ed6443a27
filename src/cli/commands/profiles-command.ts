import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Command, Option } from 'commander';
import { createBackend, type CreatedBackend } from '../create-backend.ts';
import { positiveInteger, nonNegativeInteger } from '../parse-flag.ts';
import { preparePairs } from '../../personas/prepare-pairs.ts';
import { loadAttributeSource } from '../../personas/load-attribute-source.ts';
import { formatImportSummary, formatImportWarnings } from '../../personas/importers/format-import-summary.ts';
import type { LlmBackend } from '../../llm/llm-backend.ts';
import { deriveRandom } from '../../util/create-random.ts';
import {
  createCliEmbedder,
  createProgressPrinter,
  loadPersonasCliConfig,
  type PersonasCliFlags,
} from './personas-cli-support.ts';

interface ProfilesFlags extends PersonasCliFlags {
  attributes: string;
  count: number;
  out: string;
  pairs?: number;
  attributesPerProfile: number;
  consistencyCheck: boolean;
  negationCheck?: boolean;
  pairSimilarityMin?: number;
  maxProfileReuse?: number;
  strict?: boolean;
}

/** A backend that refuses every call: `profiles --no-consistency-check` must not need an endpoint. */
const NO_LLM: LlmBackend = {
  kind: 'none',
  modelFor: () => 'none',
  complete: async () => {
    throw new Error('no LLM configured (consistency checks are off)');
  },
  dispose: async () => {},
};

export function registerProfilesCommand(program: Command): void {
  program
    .command('profiles')
    .description('Build consistent profiles from attributes and pair them by cluster overlap')
    .requiredOption('--attributes <file>', 'attributes JSONL (seed or `expand` output) or a seed dataset')
    .requiredOption('--count <n>', 'profiles to build', positiveInteger)
    .requiredOption(
      '--out <file>',
      'output profiles JSONL; pairs go to <out>.pairs.jsonl, the report to <out>.report.json',
    )
    .option('--pairs <n>', 'pairs to form (default: count / 2)', positiveInteger)
    .option('--attributes-per-profile <n>', 'attributes per profile (paper: 5)', positiveInteger, 5)
    .option('--no-consistency-check', 'skip the LLM contradiction check (no endpoint needed)')
    .option('--negation-check', "also run the paper's negation step (one more LLM call per candidate)")
    .option(
      '--pair-similarity-min <n>',
      'pair profiles whose cluster similarity is greater than this (default 2)',
      nonNegativeInteger,
    )
    .option('--max-profile-reuse <n>', 'pairs one profile may take part in (default 2)', positiveInteger)
    .option('--base-url <url>', 'OpenAI-compatible endpoint (env OPENAI_BASE_URL)')
    .option('--model <name>', 'model for the checks (the critic model)')
    .option('--model-path <file.gguf>', 'run the checks on this local GGUF model')
    .option('--config <file>', 'YAML or JSON config file (llm and personas sections)')
    .option('--seed <n>', 'seed for every random choice (default 1)', nonNegativeInteger)
    .addOption(
      new Option('--embedder <kind>', 'embedding model kind (default lexical)').choices(['lexical', 'openai', 'local']),
    )
    .option('--embedding-model <name>', 'embedding model name (openai) or GGUF path (local)')
    .option('--embedding-base-url <url>', 'embeddings endpoint (default: --base-url)')
    .option(
      '--strict',
      'stop (exit 2) at the first --attributes record that cannot be imported instead of skipping it (also personas.strict)',
    )
    .action(async (flags: ProfilesFlags) => {
      const { config, personas } = await loadPersonasCliConfig(flags, {
        consistency_check: flags.consistencyCheck,
        negation_check: flags.negationCheck,
        pair_similarity_min: flags.pairSimilarityMin,
        max_profile_reuse: flags.maxProfileReuse,
        profile_pool: flags.count,
      });
      const { attributes, summary: importSummary } = await loadAttributeSource(flags.attributes, {
        strict: flags.strict === true || personas.strict,
      });
      for (const warning of formatImportWarnings(importSummary)) process.stderr.write(`${warning}\n`);
      const embedder = await createCliEmbedder(config, personas);
      const needsLlm = personas.consistency_check || personas.negation_check;
      const created: CreatedBackend | undefined = needsLlm ? await createBackend(config, process.env) : undefined;
      const progress = createProgressPrinter();
      try {
        const result = await preparePairs(
          {
            ...personas,
            mode: 'synthesize',
            source: undefined,
            count: flags.pairs ?? Math.max(1, Math.floor(flags.count / 2)),
            attributes_per_profile: flags.attributesPerProfile,
            critic_temperature: config.llm.critic_temperature,
            critic_max_output_tokens: config.llm.critic_max_output_tokens,
            seed: config.seed,
            ...(config.profiles.contradiction_batch !== undefined && {
              contradiction_batch: config.profiles.contradiction_batch,
            }),
          },
          {
            backend: created?.backend ?? NO_LLM,
            random: deriveRandom(config.seed, 'profiles'),
            embedder,
            seedAttributes: attributes,
            onProgress: (event) => progress(event.phase, event.done, event.total),
          },
        );
        await mkdir(dirname(flags.out), { recursive: true });
        const jsonl = (records: readonly unknown[]) => records.map((record) => `${JSON.stringify(record)}\n`).join('');
        await writeFile(flags.out, jsonl(result.profiles), 'utf8');
        await writeFile(`${flags.out}.pairs.jsonl`, jsonl(result.pairs), 'utf8');
        const report = { ...result.report, import: importSummary };
        await writeFile(`${flags.out}.report.json`, `${JSON.stringify(report, null, 2)}\n`, 'utf8');
        const rejections = Object.entries(report.rejections)
          .map(([reason, count]) => `${count} ${reason}`)
          .join(', ');
        process.stdout.write(
          [
            `profiles: ${report.profiles} -> ${flags.out} (rejected candidates: ${rejections || 'none'})`,
            `pairs: ${report.pairs} (${report.cluster_pairs} by cluster overlap > ${personas.pair_similarity_min}, ${report.random_pairs} random) -> ${flags.out}.pairs.jsonl`,
            `coverage: ${report.coverage.attributes_used}/${report.coverage.attributes_available} attributes, ` +
              `${report.coverage.clusters_used}/${report.coverage.clusters_available} clusters; pairs per profile ${JSON.stringify(report.coverage.pairs_per_profile)}`,
            ...report.notes.map((note) => `note: ${note}`),
            formatImportSummary(importSummary),
            `report: ${flags.out}.report.json`,
          ].join('\n') + '\n',
        );
      } finally {
        await embedder.dispose();
        await created?.dispose();
      }
    });
}
