import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli } from '../fixtures/run-cli.ts';
import { DatasetRowSchema } from '../../src/schemas/dataset-row.ts';

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('persona-forge run: bad input gets a clear message and exit code 2', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'pf-bad-'));
  });

  it('names the file and line of a malformed seed file', async () => {
    const seeds = join(directory, 'attributes.jsonl');
    await writeFile(seeds, '{"id":"a-1","category":"pets","text":"I have a dog."}\n{"id":"a-2","category":"pets"\n');
    const config = join(directory, 'config.yaml');
    await writeFile(config, `seeds:\n  attributes: ${seeds}\n`);
    const { code, stderr } = await runCli([
      'run',
      '--config',
      config,
      '--base-url',
      'http://127.0.0.1:59999/v1',
      '--out',
      directory,
    ]).result;
    expect(code).toBe(2);
    expect(stderr).toContain(`${seeds}:2: invalid JSON`);
    expect(stderr).not.toContain('    at ');
  });

  it('names the critic file and field with bad frontmatter', async () => {
    const critics = join(directory, 'bad-critics');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(critics, { recursive: true });
    await writeFile(join(critics, 'rude.md'), '---\nname: rude\nkind: ranker\ndescription: x\n---\n{{conversation}}\n');
    const { code, stderr } = await runCli([
      'run',
      '--critics',
      critics,
      '--base-url',
      'http://127.0.0.1:59999/v1',
      '--out',
      directory,
    ]).result;
    expect(code).toBe(2);
    expect(stderr).toContain('rude.md');
    expect(stderr).toContain('frontmatter field "kind"');
    expect(stderr).not.toContain('    at ');
  });

  it('lists every invalid config field', async () => {
    const config = join(directory, 'bad.yaml');
    await writeFile(config, 'pairs: -3\ncandidates: lots\nllm:\n  temperature: 9\n');
    const { code, stderr } = await runCli(['run', '--config', config]).result;
    expect(code).toBe(2);
    expect(stderr).toContain(`invalid config (from ${config}`);
    expect(stderr).toContain('  - pairs: Too small');
    expect(stderr).toContain('  - candidates: Invalid input: expected number, received string');
    expect(stderr).toContain('  - llm.temperature: Too big');
  });

  it('rejects a bad flag value with a usage message', async () => {
    const { code, stderr } = await runCli(['run', '--pairs', 'zero']).result;
    expect(code).toBe(2);
    expect(stderr).toContain(
      `option '--pairs <n>' argument 'zero' is invalid. Expected an integer from 1 to 1000000, got "zero".`,
    );
  });

  it('explains an unreachable endpoint without a stack trace and without the key', async () => {
    const { code, stderr } = await runCli(
      ['run', '--base-url', 'http://127.0.0.1:59999/v1', '--out', directory, '--pairs', '1', '--iterations', '1'],
      {
        env: { OPENAI_API_KEY: 'sk-unreachable-secret' },
      },
    ).result;
    expect(code).toBe(2);
    expect(stderr).toContain('Cannot reach the LLM endpoint at http://127.0.0.1:59999/v1');
    expect(stderr).toContain('Check --base-url or OPENAI_BASE_URL');
    expect(stderr).not.toContain('sk-unreachable-secret');
    expect(stderr).not.toContain('    at ');
  });
});

describe('persona-forge run: malformed LLM JSON and mid-run failures', () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    fixture = await startFixtureServer();
    out = await mkdtemp(join(tmpdir(), 'pf-llm-bad-'));
  });
  afterAll(async () => fixture?.close());

  // The paper's per-expert panel (one call per critic): these tests count and break individual critic calls.
  const runArgs = (runId: string) => [
    'run',
    '--base-url',
    fixture.baseUrl,
    '--selection',
    'round-robin',
    '--iterations',
    '1',
    '--pairs',
    '3',
    '--candidates',
    '2',
    '--out',
    out,
    '--run-id',
    runId,
  ];

  it('repairs a broken critic reply with one extra call and completes', async () => {
    fixture.setOptions({
      malformedJson: ({ kind, isRepair }) => (kind === 'critic_toxicity' && !isRepair ? 'broken-then-ok' : 'ok'),
    });
    const { code } = await runCli(runArgs('repaired')).result;
    expect(code).toBe(0);
    const repairs = fixture.requests.filter(
      (request) => request.kind === 'critic_toxicity' && JSON.stringify(request.body.messages).includes('not valid'),
    );
    expect(repairs.length).toBeGreaterThan(0);
    const candidates = await readLines(join(out, 'repaired', 'candidates.jsonl'));
    const toxicity = candidates
      .flatMap((record) => record.filters)
      .filter((verdict: { critic: string }) => verdict.critic === 'toxicity');
    expect(toxicity.every((verdict: { confidence: number }) => verdict.confidence > 0)).toBe(true);
  });

  it('records an unusable critic reply (after the repair) in the candidate verdicts and still completes', async () => {
    fixture.setOptions({ malformedJson: ({ kind }) => (kind === 'critic_toxicity' ? 'always-broken' : 'ok') });
    const { code } = await runCli(runArgs('unusable')).result;
    expect(code).toBe(0);
    const candidates = await readLines(join(out, 'unusable', 'candidates.jsonl'));
    const toxicity = candidates
      .flatMap((record) => record.filters)
      .filter((verdict: { critic: string }) => verdict.critic === 'toxicity');
    expect(toxicity.length).toBeGreaterThan(0);
    expect(
      toxicity.every(
        (verdict: { rationale: string; confidence: number }) =>
          verdict.rationale.startsWith('critic reply unusable') && verdict.confidence === 0,
      ),
    ).toBe(true);
  });

  it('--critics DIR adds an expert that judges every surviving candidate, and can switch one off', async () => {
    const critics = join(out, 'extra-critics');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(critics, { recursive: true });
    await writeFile(
      join(critics, 'politeness.md'),
      '---\nname: politeness\nkind: filter\ndescription: Rejects rude conversations.\nverdict:\n  field: rude\n  reject_when: true\n---\nIs this conversation rude?\n{{user1_persona}}\n{{user2_persona}}\n{{conversation}}\n',
    );
    await writeFile(join(critics, 'likability.md'), '---\nname: likability\nenabled: false\n---\n');
    fixture.setOptions({ malformedJson: () => 'ok' });
    const before = fixture.requests.length;
    const { code } = await runCli([...runArgs('extra-critics'), '--critics', critics]).result;
    expect(code).toBe(0);
    const kinds = fixture.requests.slice(before).map((request) => request.kind);
    expect(kinds).toContain('critic_politeness');
    expect(kinds).not.toContain('pairwise_likability');
    const candidates = await readLines(join(out, 'extra-critics', 'candidates.jsonl'));
    expect(
      candidates.some((record) =>
        record.filters.some((verdict: { critic: string }) => verdict.critic === 'politeness'),
      ),
    ).toBe(true);
  });

  it('keeps rows already written intact when the endpoint starts failing mid-run, and --resume retries the failed pairs', async () => {
    fixture.setOptions({ malformedJson: () => 'ok' });
    // Let the first pairs through, then fail every request with HTTP 500.
    const failFrom = fixture.stats.total + 160;
    fixture.setOptions({
      faults: { rate: 1, kinds: ['500'], requestIndices: Array.from({ length: 5000 }, (_, index) => failFrom + index) },
    });
    const args = [
      'run',
      '--base-url',
      fixture.baseUrl,
      '--selection',
      'round-robin',
      '--iterations',
      '1',
      '--pairs',
      '8',
      '--candidates',
      '2',
      '--concurrency',
      '1',
      '--out',
      out,
      '--run-id',
      'midrun',
      '--config',
      join(out, 'retries.yaml'),
    ];
    // One contradiction check per planning call, so the 160 requests above end mid-run as they were counted.
    await writeFile(join(out, 'retries.yaml'), 'llm:\n  max_retries: 0\nprofiles:\n  contradiction_batch: 1\n');
    const first = await runCli(args).result;
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/pair\(s\) failed/);
    const rowsBefore = (await readLines(join(out, 'midrun', 'conversations.jsonl'))).map((row) =>
      DatasetRowSchema.parse(row),
    );
    expect(rowsBefore.length).toBeGreaterThan(0);
    expect(rowsBefore.length).toBeLessThan(8);
    expect(await readdir(join(out, 'midrun'))).toContain('dataset.parquet');

    fixture.setOptions({ faults: undefined });
    const resumed = await runCli(['run', '--resume', join(out, 'midrun')]).result;
    expect(resumed.code).toBe(0);
    const rowsAfter = (await readLines(join(out, 'midrun', 'conversations.jsonl'))).map((row) =>
      DatasetRowSchema.parse(row),
    );
    expect(rowsAfter.slice(0, rowsBefore.length)).toEqual(rowsBefore);
    const ids = rowsAfter.map((row) => row.id);
    expect(new Set(ids).size).toBe(ids.length);
    const outcomes = await readLines(join(out, 'midrun', 'outcomes.jsonl'));
    expect(outcomes).toHaveLength(8);
  });
});
