import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli, type CliResult } from '../fixtures/run-cli.ts';
import { DatasetRowSchema } from '../../src/schemas/dataset-row.ts';
import { CandidateRecordSchema } from '../../src/schemas/candidate-record.ts';
import { ManifestSchema } from '../../src/schemas/manifest.ts';
import { PoolRecordSchema } from '../../src/schemas/conversation.ts';

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('persona-forge run over real HTTP (2 iterations x 6 pairs)', () => {
  let fixture: FixtureServer;
  let out: string;
  let cli: CliResult;
  let runDir: string;

  beforeAll(async () => {
    // Sample 0 of every generator call is toxic, sample 1 contradicts a profile: both must be filtered.
    fixture = await startFixtureServer({
      candidateScript: ({ sampleIndex }) =>
        sampleIndex === 0 ? 'toxic' : sampleIndex === 1 ? 'contradicting' : 'normal',
    });
    out = await mkdtemp(join(tmpdir(), 'pf-e2e-'));
    cli = await runCli(
      [
        'run',
        '--base-url',
        fixture.baseUrl,
        '--model',
        'fixture-gen',
        '--critic-model',
        'fixture-critic',
        '--iterations',
        '2',
        '--pairs',
        '6',
        '--candidates',
        '4',
        '--out',
        out,
        '--run-id',
        'e2e',
        '--seed',
        '7',
      ],
      { env: { OPENAI_API_KEY: 'sk-e2e-secret-123' } },
    ).result;
    runDir = join(out, 'e2e');
  }, 120_000);

  afterAll(async () => {
    await fixture?.close();
  });

  it('exits 0 and prints a summary table', () => {
    expect(cli.stderr).not.toContain('unexpected error');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/iteration\s+pairs\s+accepted\s+rejected/);
    expect(cli.stdout).toContain('LLM calls per accepted conversation');
  });

  it('writes every run file, and every row validates', async () => {
    const files = await readdir(runDir);
    for (const name of [
      'config.json',
      'manifest.json',
      'conversations.jsonl',
      'candidates.jsonl',
      'pool-v0.jsonl',
      'pool-v1.jsonl',
      'pool-v2.jsonl',
      'dataset.parquet',
      'outcomes.jsonl',
      'plan.jsonl',
      'README.md',
      'report.html',
    ]) {
      expect(files).toContain(name);
    }
    const rows = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) DatasetRowSchema.parse(row);
    for (const record of await readLines(join(runDir, 'candidates.jsonl'))) CandidateRecordSchema.parse(record);
  });

  it('never lets a filtered candidate win', async () => {
    const candidates = (await readLines(join(runDir, 'candidates.jsonl'))).map((record) =>
      CandidateRecordSchema.parse(record),
    );
    const filtered = candidates.filter((record) => record.status === 'filtered');
    expect(filtered.some((record) => record.filtered_by === 'toxicity')).toBe(true);
    expect(filtered.some((record) => record.filtered_by === 'faithfulness')).toBe(true);
    const rows = (await readLines(join(runDir, 'conversations.jsonl'))).map((row) => DatasetRowSchema.parse(row));
    for (const row of rows) {
      const winner = candidates.find(
        (record) =>
          record.pair_id === row.pair_id &&
          record.iteration === row.iteration &&
          record.candidate_index === row.lineage.candidate_index,
      );
      expect(winner?.status).toBe('winner');
      expect(row.turns.map((turn) => turn.text).join(' ')).not.toMatch(/zztoxiczz|zzcontradictzz/);
    }
  });

  it('shows iteration-1 winners as few-shot examples to iteration-2 prompts', async () => {
    const rows = (await readLines(join(runDir, 'conversations.jsonl'))).map((row) => DatasetRowSchema.parse(row));
    const iteration1 = rows.filter((row) => row.iteration === 1);
    expect(iteration1.length).toBeGreaterThan(0);
    const pool1 = (await readLines(join(runDir, 'pool-v1.jsonl'))).map((record) => PoolRecordSchema.parse(record));
    expect(
      pool1
        .filter((record) => record.source === 'generated')
        .map((record) => record.id)
        .sort(),
    ).toEqual(iteration1.map((row) => row.id).sort());

    const iteration2 = rows.filter((row) => row.iteration === 2);
    const winnerIds = new Set(iteration1.map((row) => row.id));
    const usedWinners = iteration2.flatMap((row) => row.lineage.few_shot_ids).filter((id) => winnerIds.has(id));
    expect(usedWinners.length).toBeGreaterThan(0);
    expect(iteration2.every((row) => row.lineage.pool_version === 1)).toBe(true);

    // And the prompts actually sent over HTTP contain those winners' utterances.
    const generatorPrompts = fixture.requests
      .filter((request) => request.kind === 'generator')
      .map((request) => JSON.stringify(request.body.messages));
    const winner = iteration1.find((row) => usedWinners.includes(row.id))!;
    const line = JSON.stringify(`User 1: ${winner.turns[0].text}`).slice(1, -1);
    expect(generatorPrompts.some((prompt) => prompt.includes(line))).toBe(true);
  });

  it('accounts for every pair in every iteration (accepted + rejected + failed = pairs)', async () => {
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.status).toBe('completed');
    expect(manifest.iterations).toHaveLength(2);
    for (const iteration of manifest.iterations) {
      expect(iteration.pairs).toBe(6);
      expect(iteration.accepted + iteration.rejected + iteration.failed).toBe(6);
      expect(iteration.failed).toBe(0);
      expect(iteration.filtered_by.toxicity).toBeGreaterThan(0);
    }
    const rows = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rows.length).toBe(manifest.totals.accepted);
    expect(manifest.totals.usage.generator.calls).toBeGreaterThan(0);
    expect(manifest.totals.usage.critic.calls).toBeGreaterThan(0);
  });

  it('writes dataset.parquet that reads back equal to the JSONL rows', async () => {
    const rows = await readLines(join(runDir, 'conversations.jsonl'));
    const file = await asyncBufferFromFile(join(runDir, 'dataset.parquet'));
    const parquetRows = (await parquetReadObjects({ file })) as Array<{ id: string; created_at: unknown }>;
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    // created_at is a UTC timestamp column: it reads back as a Date of the same instant.
    for (const row of parquetRows) expect(row.created_at).toBeInstanceOf(Date);
    const withDates = rows.map((row) => ({ ...row, created_at: new Date(row.created_at) }));
    expect(parquetRows.sort(byId)).toEqual(withDates.sort(byId));
  });

  it('never writes the API key anywhere', async () => {
    for (const name of await readdir(runDir)) {
      if (name === 'cache' || name === 'dataset.parquet') continue;
      expect(await readFile(join(runDir, name), 'utf8')).not.toContain('sk-e2e-secret-123');
    }
    expect(cli.stdout + cli.stderr).not.toContain('sk-e2e-secret-123');
  });
});
