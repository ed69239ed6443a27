import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDatasetCard, sizeCategory, writeDatasetCard } from '../../src/output/write-dataset-card.ts';
import { createRunDirectory, type SyntheticRun } from '../fixtures/evaluation/create-run-directory.ts';

let directory: string;
let run: SyntheticRun;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pf-card-'));
  run = await createRunDirectory(join(directory, 'run'), { iterations: 3, pairsPerIteration: 4 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function frontMatter(card: string): Record<string, any> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(card);
  expect(match).not.toBeNull();
  return parse(match![1]);
}

describe('writeDatasetCard', () => {
  it('writes a Hugging Face dataset card with the YAML header, provenance and the method citation', async () => {
    const path = await writeDatasetCard(run.dir);
    expect(path).toBe(join(run.dir, 'README.md'));
    const card = readFileSync(path, 'utf8');
    expect(frontMatter(card)).toEqual({
      license: 'cc-by-4.0',
      pretty_name: `persona-forge ${run.runId}`,
      language: ['en'],
      task_categories: ['text-generation'],
      tags: ['synthetic', 'persona', 'dialogue', 'conversational', 'persona-forge'],
      size_categories: ['n<1K'],
      configs: [{ config_name: 'default', data_files: [{ split: 'train', path: 'dataset.parquet' }] }],
    });
    expect(card).toContain(`${run.rows.length} synthetic two-party conversations`);
    expect(card).toContain('| generator model | fixture-generator |');
    expect(card).toContain('| critic model | fixture-critic |');
    expect(card).toContain('| iterations | 3 |');
    for (const name of ['faithfulness', 'toxicity', 'depth', 'coherency'])
      expect(card).toMatch(new RegExp(`\\| ${name} \\| \\d{12} \\|`));
    for (const field of ['few_shot_ids', 'pool_version', 'candidate_index', 'prompt_hash'])
      expect(card).toContain(field);
    // Per-iteration counts match the rows.
    for (const iteration of [1, 2, 3]) {
      const rows = run.rows.filter((row) => row.iteration === iteration).length;
      expect(card).toMatch(
        new RegExp(`\\| ${iteration} \\| 4 \\| 12 \\| ${rows} \\| ${4 - rows} \\| 0 \\| ${rows} \\|`),
      );
    }
    expect(card).toContain('```bibtex');
    expect(card).toContain('eprint = {2312.10007}');
    expect(card).toContain('Jandaghi, Pegah');
  });

  it('takes the license and name from options and works on a partial run', async () => {
    const partial = await createRunDirectory(join(directory, 'partial'), {
      iterations: 1,
      pairsPerIteration: 2,
      manifest: false,
      candidates: false,
    });
    const card = readFileSync(
      await writeDatasetCard(partial.dir, { license: 'apache-2.0', prettyName: 'My <b>set</b>: "quoted"' }),
      'utf8',
    );
    const header = frontMatter(card);
    expect(header.license).toBe('apache-2.0');
    expect(header.pretty_name).toBe('My <b>set</b>: "quoted"');
    expect(card).toContain('# My &lt;b&gt;set&lt;/b&gt;: "quoted"');
    expect(card).toContain('| generator model | fixture-generator |'); // from config.json
  });

  it('escapes Markdown and HTML in run values', () => {
    const card = renderDatasetCard({
      runId: 'r',
      rows: 12_345,
      rowsByIteration: {},
      manifest: { iterations: [], models: { generator: 'evil|<script>', critic: 'c' } },
      config: null,
      evaluation: null,
      hasParquet: true,
    });
    expect(card).toContain('| generator model | evil\\|&lt;script&gt; |');
    expect(frontMatter(card).size_categories).toEqual(['10K<n<100K']);
  });
});

describe('sizeCategory', () => {
  it('uses the Hugging Face buckets', () => {
    expect([0, 999, 1000, 9999, 10_000, 250_000, 2_000_000].map(sizeCategory)).toEqual([
      'n<1K',
      'n<1K',
      '1K<n<10K',
      '1K<n<10K',
      '10K<n<100K',
      '100K<n<1M',
      '1M<n<10M',
    ]);
  });
});
