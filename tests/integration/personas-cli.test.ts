import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeSchema } from '../../src/schemas/attribute.ts';
import { PairSchema } from '../../src/schemas/pair.ts';
import { ProfileSchema } from '../../src/schemas/profile.ts';
import { ExpansionStatsSchema, PersonasReportSchema } from '../../src/schemas/persona-expansion.ts';
import { runCli } from '../fixtures/run-cli.ts';
import {
  startPersonasFixtureServer,
  type PersonasFixtureServer,
} from '../fixtures/personas/personas-fixture-server.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'personas');
let server: PersonasFixtureServer;
let dir: string;
beforeAll(async () => {
  server = await startPersonasFixtureServer();
  dir = await mkdtemp(join(tmpdir(), 'persona-forge-personas-cli-'));
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const lines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('persona-forge expand', { timeout: 180_000 }, () => {
  it('expands seed attributes to the target, prints Table 1 and saves the statistics', async () => {
    const out = join(dir, 'expanded.jsonl');
    const args = [
      'expand',
      '--seeds',
      join(FIXTURES, 'seed-attributes.jsonl'),
      '--target',
      '55',
      '--out',
      out,
      '--steps',
      '2',
      '--base-url',
      server.baseUrl,
      '--model',
      'fixture-generator',
    ];
    const { code, stdout, stderr } = await runCli(args).result;
    expect(stderr).toContain('[bootstrap-personas]');
    expect(code).toBe(0);
    expect(stdout).toMatch(/#attributes\s+40\s+55/);
    expect(stdout).toContain(`statistics: ${out}.stats.json`);
    const attributes = (await lines(out)).map((line) => AttributeSchema.parse(line));
    expect(attributes).toHaveLength(55);
    expect(attributes.every((attribute) => attribute.cluster && attribute.query)).toBe(true);
    ExpansionStatsSchema.parse(JSON.parse(await readFile(`${out}.stats.json`, 'utf8')));

    // Same command again: nothing left to do, the file stays as it is.
    const again = await runCli(args).result;
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('(continued)');
    expect(await lines(out)).toHaveLength(55);
  });

  it('exits 2 with the file and line for a bad seeds file with --strict', async () => {
    const { code, stderr } = await runCli([
      'expand',
      '--strict',
      '--seeds',
      join(FIXTURES, 'jsonl-invalid-json.jsonl'),
      '--target',
      '5',
      '--out',
      join(dir, 'bad.jsonl'),
      '--base-url',
      server.baseUrl,
    ]).result;
    expect(code).toBe(2);
    expect(stderr).toContain('jsonl-invalid-json.jsonl:2: invalid JSON');
  });
});

describe('persona-forge profiles', { timeout: 180_000 }, () => {
  it('builds consistent profiles with the LLM check, pairs them and writes the coverage report', async () => {
    const out = join(dir, 'profiles.jsonl');
    const { code, stdout, stderr } = await runCli([
      'profiles',
      '--attributes',
      join(FIXTURES, 'seed-attributes.jsonl'),
      '--count',
      '12',
      '--pairs',
      '6',
      '--out',
      out,
      '--base-url',
      server.baseUrl,
      '--model',
      'fixture-critic',
      '--seed',
      '3',
    ]).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^profiles: 12 -> .*profiles\.jsonl \(rejected candidates: /m);
    expect(stdout).toMatch(/^pairs: 6 \(\d+ by cluster overlap > 2, \d+ random\)/m);
    const profiles = (await lines(out)).map((line) => ProfileSchema.parse(line));
    expect(profiles).toHaveLength(12);
    const pairs = (await lines(`${out}.pairs.jsonl`)).map((line) => PairSchema.parse(line));
    expect(pairs).toHaveLength(6);
    const report = PersonasReportSchema.parse(JSON.parse(await readFile(`${out}.report.json`, 'utf8')));
    expect(report.coverage.attributes_available).toBe(40);
    // The checks go out several per call (profiles.contradiction_batch, default 8).
    expect(server.backing.stats.byKind.contradiction_checks).toBeGreaterThan(0);
    expect(server.backing.stats.byKind.contradiction_check ?? 0).toBe(0);
  });

  it('works offline with --no-consistency-check and takes a seed dataset as the attribute source', async () => {
    const out = join(dir, 'offline', 'profiles.jsonl');
    const { code, stdout } = await runCli([
      'profiles',
      '--attributes',
      join(FIXTURES, 'spc-small.csv'),
      '--count',
      '4',
      '--out',
      out,
      '--no-consistency-check',
      '--attributes-per-profile',
      '4',
    ]).result;
    expect(code).toBe(0);
    expect(stdout).toContain('pairs: 2 (');
    expect(await lines(out)).toHaveLength(4);
  });

  it('exits 2 on a bad flag value', async () => {
    const { code, stderr } = await runCli(['profiles', '--attributes', 'x', '--count', 'zero', '--out', 'y']).result;
    expect(code).toBe(2);
    expect(stderr).toContain(`option '--count <n>' argument 'zero' is invalid. Expected an integer from 1 to`);
  });
});
