import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli, REPO_ROOT } from '../fixtures/run-cli.ts';
import { importDataset } from '../../src/personas/importers/import-dataset.ts';

const SPC_VALID = join(REPO_ROOT, '..', 'shared', 'data', 'synthetic-persona-chat', 'valid.csv');
const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('persona-forge run: where pairs come from (personas.mode)', () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    fixture = await startFixtureServer();
    out = await mkdtemp(join(tmpdir(), 'pf-modes-'));
  });
  afterAll(async () => fixture?.close());

  it('synthesize: builds consistent profiles and pairs them by cluster overlap (paper stage 1+2)', async () => {
    const before = { ...fixture.stats.byKind };
    const config = join(out, 'synthesize.yaml');
    await writeFile(config, 'personas:\n  mode: synthesize\n  pair_similarity_min: 0\n');
    const { code, stderr } = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--out',
      out,
      '--run-id',
      'synth',
      '--iterations',
      '1',
      '--pairs',
      '3',
      '--candidates',
      '2',
      '--config',
      config,
    ]).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    const plan = await readLines(join(out, 'synth', 'plan.jsonl'));
    expect(plan).toHaveLength(3);
    for (const { pair } of plan) {
      expect(pair.user1.attributes.length).toBe(5);
      expect(pair.user1.id).not.toBe(pair.user2.id);
    }
    // The profiles' contradiction checks go out several per call, as in simple mode.
    const calls = (kind: string) => (fixture.stats.byKind[kind] ?? 0) - (before[kind] ?? 0);
    expect(calls('contradiction_checks')).toBeGreaterThan(0);
    expect(calls('contradiction_check')).toBe(0);
  });

  describe.skipIf(!existsSync(SPC_VALID))('seed-pairs from the SPC validation split', () => {
    it('reuses the seed dataset pairs and seeds the few-shot pool from its conversations', async () => {
      const config = join(out, 'seed-pairs.yaml');
      await writeFile(config, `personas:\n  mode: seed-pairs\n  source: ${SPC_VALID}\n`);
      const { code } = await runCli([
        'run',
        '--base-url',
        fixture.baseUrl,
        '--out',
        out,
        '--run-id',
        'seedpairs',
        '--iterations',
        '1',
        '--pairs',
        '3',
        '--candidates',
        '2',
        '--config',
        config,
      ]).result;
      expect(code).toBe(0);
      const imported = await importDataset(SPC_VALID);
      const plan = await readLines(join(out, 'seedpairs', 'plan.jsonl'));
      expect(plan.map((item: { pair: { id: string } }) => item.pair.id)).toEqual(
        imported.pairs.slice(0, 3).map((pair) => pair.id),
      );
      const pool = await readLines(join(out, 'seedpairs', 'pool-v0.jsonl'));
      expect(pool).toHaveLength(imported.conversations.length);
      const rows = await readLines(join(out, 'seedpairs', 'conversations.jsonl'));
      for (const row of rows) expect(row.lineage.few_shot_ids).not.toContain(row.pair_id);
    });
  });
  if (!existsSync(SPC_VALID)) console.warn(`NOTICE: ${SPC_VALID} is absent; the seed-pairs run test is skipped.`);
});
