import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluationResultSchema } from '../../src/schemas/evaluation-result-schema.ts';
import { ExpansionStatsSchema, PersonasReportSchema } from '../../src/schemas/persona-expansion.ts';
import type { ImportSummary } from '../../src/schemas/import-summary.ts';
import { REPO_ROOT, runCli } from '../fixtures/run-cli.ts';
import {
  startPersonasFixtureServer,
  type PersonasFixtureServer,
} from '../fixtures/personas/personas-fixture-server.ts';

// A synthetic SPC CSV with the messy rows the real splits have (see the fixture for each row).
const MESSY = join(REPO_ROOT, 'tests', 'fixtures', 'personas', 'spc-messy.csv');
const SPC_VALID = join(REPO_ROOT, '..', 'shared', 'data', 'synthetic-persona-chat', 'valid.csv');

/** Line and reason of every row of spc-messy.csv that cannot be imported, in file order. */
const MESSY_SKIPS = [
  [11, 'empty_conversation'],
  [12, 'no_recognizable_turns'],
  [23, 'one_speaker_only'],
  [25, 'malformed_csv_record'],
  [27, 'empty_persona'],
] as const;

function expectMessyCounts(summary: ImportSummary | null | undefined): void {
  expect(summary).toMatchObject({
    format: 'spc-csv',
    rows_read: 10,
    imported: 5,
    repaired: 3,
    repaired_by_kind: { markdown_speaker_tags: 2, speaker_label_variants: 1, blank_lines: 1, named_speakers: 1 },
    skipped: 5,
    skipped_by_reason: {
      empty_conversation: 1,
      no_recognizable_turns: 1,
      one_speaker_only: 1,
      malformed_csv_record: 1,
      empty_persona: 1,
    },
  });
  expect(summary!.skipped_records.map((record) => [record.line, record.reason])).toEqual(MESSY_SKIPS);
}

/** One `warning: <file>:<line>: skipped (<reason>): …` line per skipped row, and nothing else warned. */
function expectOneWarningPerSkippedRow(stderr: string): void {
  const warnings = stderr.split('\n').filter((line) => line.startsWith('warning: '));
  expect(warnings.map((line) => /^warning: (.*):(\d+): skipped \((\w+)\): /.exec(line)?.slice(1))).toEqual(
    MESSY_SKIPS.map(([line, reason]) => [MESSY, String(line), reason]),
  );
}

let dir: string;
let server: PersonasFixtureServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pf-tolerant-import-'));
  server = await startPersonasFixtureServer();
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('persona-forge evaluate on a messy SPC CSV', { timeout: 120_000 }, () => {
  it('skips what cannot be read with one warning per row, repairs the rest, and counts both', async () => {
    const out = join(dir, 'messy.evaluation.json');
    const { code, stdout, stderr } = await runCli(['evaluate', MESSY, '--out', out]).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expectOneWarningPerSkippedRow(stderr);
    expect(stdout).toContain(
      `import: 5 of 10 records of ${MESSY} imported (3 repaired: 2 markdown_speaker_tags, 1 blank_lines, 1 named_speakers, 1 speaker_label_variants); ` +
        '5 skipped (1 empty_conversation, 1 empty_persona, 1 malformed_csv_record, 1 no_recognizable_turns, 1 one_speaker_only)',
    );
    const evaluation = EvaluationResultSchema.parse(JSON.parse(await readFile(out, 'utf8')));
    expectMessyCounts(evaluation.dataset.import_notes);
    expect(evaluation.statistics.dataset.conversations).toBe(5);
  });

  it('with --strict exits 2 at the first bad row, naming file:line, without a stack trace', async () => {
    const { code, stderr } = await runCli(['evaluate', MESSY, '--strict', '--out', join(dir, 'strict.json')]).result;
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      `persona-forge: ${MESSY}:11: column "Best Generated Conversation" is empty; expected "User 1: …" and "User 2: …" lines`,
    );
    expect(existsSync(join(dir, 'strict.json'))).toBe(false);
  });
});

describe('persona-forge export on a messy SPC CSV', { timeout: 120_000 }, () => {
  it('exports the readable rows with one warning per skipped row; --strict exits 2 naming file:line', async () => {
    const out = join(dir, 'messy-export.jsonl');
    const { code, stdout, stderr } = await runCli(['export', MESSY, '--format', 'jsonl', '--out', out]).result;
    expect(code).toBe(0);
    expectOneWarningPerSkippedRow(stderr);
    expect(stdout).toContain(`wrote 5 conversation(s) to ${out}`);
    const strict = await runCli(['export', MESSY, '--format', 'jsonl', '--out', join(dir, 'strict.jsonl'), '--strict'])
      .result;
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(`persona-forge: ${MESSY}:11: column "Best Generated Conversation" is empty`);
  });
});

describe('persona-forge expand and profiles on a messy SPC CSV', { timeout: 180_000 }, () => {
  it('expand: imports the readable rows, warns per skipped row and saves the counts in <out>.stats.json', async () => {
    const out = join(dir, 'expanded.jsonl');
    const { code, stdout, stderr } = await runCli([
      'expand',
      '--seeds',
      MESSY,
      '--target',
      '14',
      '--steps',
      '1',
      '--out',
      out,
      '--base-url',
      server.baseUrl,
      '--model',
      'fixture-generator',
    ]).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expectOneWarningPerSkippedRow(stderr);
    expect(stderr).toContain(`import: 5 of 10 records of ${MESSY} imported (3 repaired:`);
    expect(stdout).toMatch(/#attributes\s+12\s+14/);
    const stats = ExpansionStatsSchema.parse(JSON.parse(await readFile(`${out}.stats.json`, 'utf8')));
    expectMessyCounts(stats.import);
  });

  it('expand --strict: exit 2 naming file:line before any LLM call', async () => {
    const before = server.backing.stats.total;
    const { code, stderr } = await runCli([
      'expand',
      '--seeds',
      MESSY,
      '--target',
      '14',
      '--out',
      join(dir, 'strict-expanded.jsonl'),
      '--base-url',
      server.baseUrl,
      '--strict',
    ]).result;
    expect(code).toBe(2);
    expect(stderr).toContain(`persona-forge: ${MESSY}:11: column "Best Generated Conversation" is empty`);
    expect(server.backing.stats.total).toBe(before);
  });

  it('profiles: counts in the summary and in <out>.report.json; --strict exits 2 naming file:line', async () => {
    const out = join(dir, 'profiles', 'profiles.jsonl');
    const args = [
      'profiles',
      '--attributes',
      MESSY,
      '--count',
      '4',
      '--attributes-per-profile',
      '2',
      '--out',
      out,
      '--no-consistency-check',
    ];
    const { code, stdout, stderr } = await runCli(args).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expectOneWarningPerSkippedRow(stderr);
    expect(stdout).toContain(`import: 5 of 10 records of ${MESSY} imported (3 repaired:`);
    const report = PersonasReportSchema.parse(JSON.parse(await readFile(`${out}.report.json`, 'utf8')));
    expectMessyCounts(report.import);

    const strict = await runCli([...args, '--strict']).result;
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(`persona-forge: ${MESSY}:11: column "Best Generated Conversation" is empty`);

    // `personas.strict: true` in the config file does the same.
    const config = join(dir, 'strict.yaml');
    await writeFile(config, 'personas:\n  strict: true\n');
    const fromConfig = await runCli([...args, '--config', config]).result;
    expect(fromConfig.code).toBe(2);
    expect(fromConfig.stderr).toContain(`persona-forge: ${MESSY}:11: column "Best Generated Conversation" is empty`);
  });
});

if (!existsSync(SPC_VALID)) {
  console.warn(
    `NOTICE: ${SPC_VALID} is absent (third-party data beside the repo); the real-split CLI tests are skipped.`,
  );
}

describe.skipIf(!existsSync(SPC_VALID))(
  'evaluate and profiles on the real SPC validation split',
  { timeout: 300_000 },
  () => {
    it('evaluate: all 1,000 conversations imported, 64 of them repaired, none skipped', async () => {
      const out = join(dir, 'valid.evaluation.json');
      const { code, stdout, stderr } = await runCli(['evaluate', SPC_VALID, '--out', out, '--strict']).result;
      expect(stderr).not.toContain('warning:');
      expect(code).toBe(0);
      expect(stdout).toContain(`import: 1000 of 1000 records of ${SPC_VALID} imported (64 repaired:`);
      const evaluation = EvaluationResultSchema.parse(JSON.parse(await readFile(out, 'utf8')));
      expect(evaluation.dataset.import_notes).toMatchObject({ imported: 1000, repaired: 64, skipped: 0 });
      expect(evaluation.statistics.dataset.conversations).toBe(1000);
    });

    it("expand: reads the split's 494 distinct persona sentences as seeds and expands them", async () => {
      const out = join(dir, 'valid-expanded.jsonl');
      const { code, stdout, stderr } = await runCli([
        'expand',
        '--seeds',
        SPC_VALID,
        '--target',
        '500',
        '--steps',
        '1',
        '--out',
        out,
        '--base-url',
        server.baseUrl,
        '--model',
        'fixture-generator',
      ]).result;
      expect(stderr).not.toContain('unexpected error');
      expect(code).toBe(0);
      expect(stdout).toMatch(/#attributes\s+494\s+500/);
      const stats = ExpansionStatsSchema.parse(JSON.parse(await readFile(`${out}.stats.json`, 'utf8')));
      expect(stats.import).toMatchObject({ imported: 1000, repaired: 64, skipped: 0 });
    });

    it('profiles: builds profiles from the split offline', async () => {
      const out = join(dir, 'valid-profiles', 'profiles.jsonl');
      const { code, stdout, stderr } = await runCli([
        'profiles',
        '--attributes',
        SPC_VALID,
        '--count',
        '20',
        '--out',
        out,
        '--no-consistency-check',
      ]).result;
      expect(stderr).not.toContain('unexpected error');
      expect(code).toBe(0);
      expect(stdout).toContain(`import: 1000 of 1000 records of ${SPC_VALID} imported (64 repaired:`);
      expect(PersonasReportSchema.parse(JSON.parse(await readFile(`${out}.report.json`, 'utf8'))).profiles).toBe(20);
    });
  },
);
