import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluationResultSchema } from '../../src/schemas/evaluation-result-schema.ts';
import { importDataset } from '../../src/personas/importers/import-dataset.ts';
import { createRunDirectory, type SyntheticRun } from '../fixtures/evaluation/create-run-directory.ts';
import { startFixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli } from '../fixtures/run-cli.ts';

let directory: string;
let run: SyntheticRun;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pf-cli-evaluate-'));
  run = await createRunDirectory(join(directory, 'run'), { iterations: 2, pairsPerIteration: 4 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('persona-forge evaluate', () => {
  it('prints the statistics table, writes evaluation.json and report.html for a run directory', async () => {
    const reference = join(directory, 'reference.csv');
    const exported = await runCli(['export', run.dir, '--format', 'spc-csv', '--out', reference]).result;
    expect(exported.code).toBe(0);

    const { code, stdout, stderr } = await runCli(['evaluate', run.dir, '--reference', reference]).result;
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(stdout).toMatch(/statistic\s+dataset\s+iter 1\s+iter 2\s+reference/);
    expect(stdout).toMatch(/conversations\s+\d+/);
    expect(stdout).toContain(`wrote ${join(run.dir, 'evaluation.json')}`);
    const evaluation = EvaluationResultSchema.parse(JSON.parse(readFileSync(join(run.dir, 'evaluation.json'), 'utf8')));
    expect(evaluation.statistics.reference!.conversations).toBe(run.rows.length);
    expect(evaluation.reference!.kind).toBe('spc-csv');
    expect(evaluation.judge).toBeNull();
    expect(readFileSync(join(run.dir, 'report.html'), 'utf8')).toContain('reference (reference.csv)');
  });

  it('runs the judge protocols against an OpenAI-compatible endpoint', async () => {
    const fixture = await startFixtureServer();
    try {
      const out = join(directory, 'judged.json');
      const { code, stdout } = await runCli([
        'evaluate',
        run.dir,
        '--reference',
        join(directory, 'reference.csv'),
        '--out',
        out,
        '--judge',
        'judge-model',
        '--judge-base-url',
        fixture.baseUrl,
        '--judge-samples',
        '2',
        '--judge-protocols',
        'ai-detection',
      ]).result;
      expect(code).toBe(0);
      expect(stdout).toMatch(/AI-detection test \(judge judge-model/);
      const evaluation = EvaluationResultSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
      // The fixture answers unknown schemas with a minimal object ("A" every time): position bias, all ties.
      expect(evaluation.judge!.ai_detection!.overall).toMatchObject({ trials: 4, tie: 4 });
      expect(evaluation.judge!.faithfulness).toBeNull();
      expect(fixture.stats.byKind.ai_detection).toBe(8);
    } finally {
      await fixture.close();
    }
  });

  it('exits 2 with a clear message for a missing input or a judge without an endpoint', async () => {
    const missing = await runCli(['evaluate', join(directory, 'nope')]).result;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory/);
    const noEndpoint = await runCli(['evaluate', run.dir, '--judge', 'm', '--out', join(directory, 'x.json')]).result;
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toMatch(/--judge-base-url/);
  });
});

describe('persona-forge export', () => {
  it.each([
    ['persona-chat', 'out.txt'],
    ['jsonl', 'out.jsonl'],
    ['parquet', 'out.parquet'],
  ])('writes %s', async (format, name) => {
    const out = join(directory, name);
    const { code, stdout } = await runCli(['export', run.dir, '--format', format, '--out', out]).result;
    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${run.rows.length} conversation(s) to ${out} (${format})`);
    expect(existsSync(out)).toBe(true);
    if (format !== 'parquet') expect((await importDataset(out)).conversations).toHaveLength(run.rows.length);
  });

  it('rejects an unknown format with exit code 2', async () => {
    const { code, stderr } = await runCli(['export', run.dir, '--format', 'xml', '--out', join(directory, 'x.xml')])
      .result;
    expect(code).toBe(2);
    expect(stderr).toMatch(/Expected one of spc-csv, persona-chat, jsonl, parquet/);
  });
});
