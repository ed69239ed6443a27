import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DatasetRowSchema } from '../schemas/dataset-row.ts';
import { readJsonlLines } from './read-jsonl-lines.ts';
import { RunManifestViewSchema, type RunManifestView } from '../schemas/run-manifest-view-schema.ts';
import { EvaluationResultSchema, type EvaluationResult } from '../schemas/evaluation-result-schema.ts';
import { PACKAGE_VERSION } from '../util/package-version.ts';

/** Options of `writeDatasetCard`. */
export interface DatasetCardOptions {
  /** SPDX-style license id for the YAML header. @defaultValue 'cc-by-4.0' */
  license?: string;
  /** Human-readable dataset name. @defaultValue `persona-forge <run id>` */
  prettyName?: string;
  /** Output file. @defaultValue `<runDir>/README.md` */
  outputPath?: string;
}

/** What the card is made from (all read leniently from the run directory). */
export interface DatasetCardInput {
  runId: string;
  rows: number;
  rowsByIteration: Record<string, number>;
  manifest: RunManifestView | null;
  /** `config.json` `config` object (public settings, no secrets). */
  config: Record<string, unknown> | null;
  evaluation: EvaluationResult | null;
  hasParquet: boolean;
}

export const METHOD_BIBTEX = `@inproceedings{jandaghi-etal-2024-faithful,
  title = {Faithful Persona-based Conversational Dataset Generation with Large Language Models},
  author = {Jandaghi, Pegah and Sheng, XiangHai and Bai, Xinyi and Pujara, Jay and Sidahmed, Hakim},
  booktitle = {Findings of the Association for Computational Linguistics: ACL 2024},
  year = {2024},
  address = {Bangkok, Thailand},
  publisher = {Association for Computational Linguistics},
  pages = {15245--15270},
  url = {https://aclanthology.org/2024.findings-acl.904},
  eprint = {2312.10007},
  archivePrefix = {arXiv},
  primaryClass = {cs.CL}
}`;

/** What the card counts of a row. */
const RowCountSchema = DatasetRowSchema.pick({ run_id: true, iteration: true });

/** Hugging Face `size_categories` bucket of a row count. */
export function sizeCategory(rows: number): string {
  const buckets: [number, string][] = [
    [1_000, 'n<1K'],
    [10_000, '1K<n<10K'],
    [100_000, '10K<n<100K'],
    [1_000_000, '100K<n<1M'],
    [10_000_000, '1M<n<10M'],
    [100_000_000, '10M<n<100M'],
  ];
  return buckets.find(([limit]) => rows < limit)?.[1] ?? 'n>1T';
}

/** Text inserted into Markdown: no raw HTML, no table breaks. */
const md = (value: unknown) => String(value ?? '').replace(/[&<>]/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[character]!).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const integer = (value: number | undefined) => (value === undefined ? '–' : Math.round(value).toLocaleString('en-US'));

function lookup(config: Record<string, unknown> | null, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Renders the dataset card (`README.md`): YAML header, description, structure, provenance, citation. Pure. */
export function renderDatasetCard(input: DatasetCardInput, options: DatasetCardOptions = {}): string {
  const { manifest, config } = input;
  const header = {
    license: options.license ?? 'cc-by-4.0',
    pretty_name: options.prettyName ?? `persona-forge ${input.runId}`,
    language: ['en'],
    task_categories: ['text-generation'],
    tags: ['synthetic', 'persona', 'dialogue', 'conversational', 'persona-forge'],
    size_categories: [sizeCategory(input.rows)],
    configs: [{ config_name: 'default', data_files: [{ split: 'train', path: 'dataset.parquet' }] }],
  };
  const generator = manifest?.models?.generator ?? (lookup(config, 'llm.model') as string | undefined) ?? 'unknown';
  const critic = manifest?.models?.critic ?? (lookup(config, 'llm.critic_model') as string | undefined) ?? generator;
  const iterations = manifest?.iterations ?? [];
  const iterationNumbers = [...new Set([...iterations.map((entry) => entry.iteration), ...Object.keys(input.rowsByIteration).map(Number)])].sort((left, right) => left - right);
  const critics = Object.entries(manifest?.versions?.critic_hashes ?? {});
  const removed: Record<string, number> = {};
  for (const entry of iterations) for (const [name, count] of Object.entries(entry.filtered_by ?? {})) removed[name] = (removed[name] ?? 0) + count;
  const setting = (label: string, path: string) => {
    const value = lookup(config, path);
    return value === undefined ? null : `| ${label} | ${md(typeof value === 'object' ? JSON.stringify(value) : value)} |`;
  };

  const lines: string[] = [
    '---',
    stringify(header).trimEnd(),
    '---',
    '',
    `# ${md(header.pretty_name)}`,
    '',
    `${integer(input.rows)} synthetic two-party conversations between users with persona profiles (4–5 first-person attributes each), ` +
      `generated with persona-forge ${md(manifest?.versions?.persona_forge ?? PACKAGE_VERSION)} using the Generator-Critic method of ` +
      `Synthetic-Persona-Chat (Jandaghi et al., 2024). Every conversation was chosen by a mixture of LLM critics from several candidates for the same pair of profiles.`,
    '',
    input.hasParquet ? '' : '> `dataset.parquet` was not present when this card was written; the same rows are in `conversations.jsonl`.\n',
    '## Dataset structure',
    '',
    'One row per accepted conversation (`dataset.parquet`, same rows as `conversations.jsonl`):',
    '',
    '| field | type | meaning |',
    '|---|---|---|',
    '| `id` | string | row id |',
    '| `run_id` | string | the run that produced the row |',
    '| `iteration` | int | Generator-Critic iteration (1-based) |',
    '| `pair_id` | string | the pair of profiles |',
    '| `user1_persona`, `user2_persona` | list of string | the two profiles (attribute sentences) |',
    '| `turns` | list of struct{speaker, text} | the conversation; `speaker` is `User 1` or `User 2`, alternating |',
    '| `scores` | map string → double | critic scores of the winner: filters 1/confidence, rankers their wins, plus `copeland` |',
    '| `lineage` | struct | `generator_model`, `critic_model`, `prompt_hash`, `critic_hashes`, `few_shot_ids`, `pool_version`, `candidate_index`, `candidates` |',
    '| `usage` | struct | `prompt_tokens`, `completion_tokens`, `cost_usd` spent on the pair |',
    '| `created_at` | timestamp (UTC, ms) | time the row was accepted (ISO 8601 text in `conversations.jsonl`) |',
    '| `schema_version` | int | row schema version |',
    '',
    '## How it was made',
    '',
    '1. **Profiles and pairs.** Each user profile is a handful of non-contradicting attributes; profiles were paired to talk to each other.',
    '2. **Generator.** An LLM wrote several candidate conversations per pair, prompted with example conversations drawn from a few-shot pool.',
    '3. **Critics.** Deterministic checks and LLM filter experts removed candidates (e.g. contradicting a profile, toxic); LLM pairwise experts ranked the rest in both orders, and the Copeland winner became the row.',
    '4. **Improvement.** Each iteration\'s winners joined the few-shot pool used by the next iteration (no weights are trained).',
    '',
    '| setting | value |',
    '|---|---|',
    `| generator model | ${md(generator)} |`,
    `| critic model | ${md(critic)} |`,
    ...[
      setting('iterations', 'iterations'),
      setting('pairs per iteration', 'pairs'),
      setting('candidates per pair', 'candidates'),
      setting('few-shot examples per prompt', 'generation.few_shot'),
      setting('generator temperature', 'llm.temperature'),
      setting('top-p', 'llm.top_p'),
      setting('top-k', 'llm.top_k'),
      setting('few-shot pool cap', 'pool.cap'),
      setting('seed', 'seed'),
    ].filter((line): line is string => line !== null),
    `| generator prompt hash | ${md(manifest?.versions?.prompt_hash ?? '–')} |`,
    `| config fingerprint | ${md(manifest?.config_fingerprint ?? '–')} |`,
    `| run status | ${md(manifest?.status ?? '–')} |`,
    '',
  ];
  if (critics.length) {
    lines.push('Critic experts and checks (file hash; candidates each one removed over the run):', '', '| critic | hash | candidates removed |', '|---|---|---|');
    for (const [name, hash] of critics.sort(([left], [right]) => left.localeCompare(right))) lines.push(`| ${md(name)} | ${md(hash)} | ${integer(removed[name] ?? 0)} |`);
    const lintChecks = Object.keys(removed).filter((name) => !critics.some(([critic]) => critic === name)).sort();
    for (const name of lintChecks) lines.push(`| ${md(name)} (check) | – | ${integer(removed[name])} |`);
    lines.push('');
  }
  if (iterationNumbers.length) {
    lines.push('Per iteration:', '', '| iteration | pairs | candidates | accepted | rejected | failed | rows |', '|---|---|---|---|---|---|---|');
    for (const number of iterationNumbers) {
      const entry = iterations.find((candidate) => candidate.iteration === number);
      lines.push(`| ${number} | ${integer(entry?.pairs)} | ${integer(entry?.candidates)} | ${integer(entry?.accepted)} | ${integer(entry?.rejected)} | ${integer(entry?.failed)} | ${integer(input.rowsByIteration[number] ?? 0)} |`);
    }
    lines.push('');
  }
  const totals = manifest?.totals;
  if (totals) {
    const tokens = (role: 'generator' | 'critic') => (totals.usage?.[role] ? totals.usage[role]!.prompt_tokens + totals.usage[role]!.completion_tokens : undefined);
    lines.push(`Tokens: generator ${integer(tokens('generator'))}, critic ${integer(tokens('critic'))}; cost ${totals.cost_usd === undefined ? '–' : `$${totals.cost_usd.toFixed(2)}`}.`, '');
  }
  const statistics = input.evaluation?.statistics.dataset;
  if (statistics) {
    const percent = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)}%`);
    lines.push(
      '## Statistics',
      '',
      `From \`persona-forge evaluate\` (${md(input.evaluation!.created_at)}): median ${statistics.utterances.median ?? '–'} utterances per conversation ` +
        `(P10–P90 ${statistics.utterances.p10 ?? '–'}–${statistics.utterances.p90 ?? '–'}), ${statistics.words_per_utterance?.toFixed(1) ?? '–'} words per utterance, ` +
        `distinct-2 ${statistics.distinct_2.toFixed(3)}, bracket placeholders ${percent(statistics.bracket_placeholder_rate)}, near-duplicates ${percent(statistics.near_duplicate_rate)}.`,
      '',
    );
  }
  lines.push(
    '## Limitations',
    '',
    '- The conversations and the quality judgments are produced by language models; they may contain factual errors, stereotypes or subtle contradictions that the critics missed.',
    '- Profiles are synthetic; any resemblance to real people is accidental. Do not use the data to make decisions about people.',
    '',
    '## Citation',
    '',
    'The method is from:',
    '',
    '```bibtex',
    METHOD_BIBTEX,
    '```',
    '',
  );
  return lines.filter((line, index, all) => !(line === '' && all[index - 1] === '')).join('\n');
}

/**
 * Writes the Hugging Face dataset card `README.md` for a run directory (YAML header with license,
 * task category, language, size category and a config pointing at `dataset.parquet`; how the data
 * was made; citation). Works on partial runs. Returns the card path.
 */
export async function writeDatasetCard(runDir: string, options: DatasetCardOptions = {}): Promise<string> {
  const file = (name: string) => join(runDir, name);
  const readJson = async (name: string): Promise<unknown> => {
    if (!existsSync(file(name))) return null;
    try {
      return JSON.parse(await readFile(file(name), 'utf8'));
    } catch {
      return null;
    }
  };
  const manifestParse = RunManifestViewSchema.safeParse(await readJson('manifest.json'));
  const manifest = manifestParse.success ? manifestParse.data : null;
  const configFile = await readJson('config.json');
  const config = configFile && typeof configFile === 'object' ? (((configFile as Record<string, unknown>).config ?? configFile) as Record<string, unknown>) : null;
  const evaluationParse = EvaluationResultSchema.safeParse(await readJson('evaluation.json'));

  let rows = 0;
  let runId: string | undefined;
  const rowsByIteration: Record<string, number> = {};
  if (existsSync(file('conversations.jsonl'))) {
    await readJsonlLines(file('conversations.jsonl'), (value) => {
      const row = RowCountSchema.safeParse(value);
      if (!row.success) return;
      rows++;
      runId ??= row.data.run_id;
      rowsByIteration[row.data.iteration] = (rowsByIteration[row.data.iteration] ?? 0) + 1;
    });
  }
  const card = renderDatasetCard(
    {
      runId: manifest?.run_id ?? runId ?? runDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run',
      rows,
      rowsByIteration,
      manifest,
      config,
      evaluation: evaluationParse.success ? evaluationParse.data : null,
      hasParquet: existsSync(file('dataset.parquet')),
    },
    options,
  );
  const outputPath = options.outputPath ?? file('README.md');
  const temporaryPath = `${outputPath}.${process.pid}.tmp`;
  await writeFile(temporaryPath, card, 'utf8');
  await rename(temporaryPath, outputPath);
  return outputPath;
}
