import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startBatchFixture, type BatchFixture } from '../fixtures/openai-batch-fixture.ts';
import { runCli } from '../fixtures/run-cli.ts';
import { ManifestSchema } from '../../src/schemas/manifest.ts';

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('persona-forge run --batch against a loopback Batch API', () => {
  let chat: FixtureServer;
  let batches: BatchFixture;
  let out: string;
  let configFile: string;
  const args = (runId: string) => [
    'run',
    '--batch',
    '--base-url',
    batches.baseUrl,
    '--model',
    'fixture-gen',
    '--iterations',
    '2',
    '--pairs',
    '3',
    '--candidates',
    '3',
    '--out',
    out,
    '--run-id',
    runId,
    '--seed',
    '3',
    '--config',
    configFile,
  ];

  beforeAll(async () => {
    chat = await startFixtureServer();
    batches = await startBatchFixture({ chatUrl: `${chat.baseUrl}/chat/completions` });
    out = await mkdtemp(join(tmpdir(), 'pf-batch-e2e-'));
    configFile = join(out, 'batch.yaml');
    await writeFile(
      configFile,
      'llm:\n  batch_poll_interval_ms: 20\n  batch_quiet_window_ms: 150\nprices:\n  fixture-gen: { input_per_million_usd: 1, output_per_million_usd: 2 }\n',
    );
  });
  afterAll(async () => {
    await batches?.close();
    await chat?.close();
  });

  it('sends each stage of each iteration as one batch, keeps the batch ids and pays batch prices', async () => {
    const before = { ...batches.stats };
    const cli = await runCli(args('b1'), { env: { OPENAI_API_KEY: 'sk-batch-secret' } }).result;
    expect(cli.stderr).not.toContain('unexpected error');
    expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
    // Per iteration: the 3 generator calls, then 3 pairs x 2 orders of the listwise panel.
    expect(batches.stats.batchesCreated - before.batchesCreated).toBe(4);
    // Profile planning's contradiction checks (one after another per profile) are sent directly.
    expect(batches.stats.directRequests - before.directRequests).toBeGreaterThan(0);
    expect(batches.stats.requestLines - before.requestLines).toBe(2 * (3 + 6));
    expect(cli.stderr).toMatch(/batch batch-\d+: completed, 3 of 3 done, 0 failed/);
    expect(cli.stdout + cli.stderr).toMatch(/tokens served through the Batch API: \d+\.\d%/);

    const runDir = join(out, 'b1');
    const state = await readLines(join(runDir, 'batches.jsonl'));
    expect(state.filter((line) => line.status === 'submitted')).toHaveLength(4);
    expect(state.filter((line) => line.status === 'completed')).toHaveLength(4);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.totals.accepted).toBe(6);
    const { generator, critic } = manifest.totals.usage;
    // Every generator call went through a batch; the critic role also holds planning's direct calls.
    expect(generator.batch_prompt_tokens).toBe(generator.prompt_tokens);
    expect(critic.batch_prompt_tokens).toBeGreaterThan(0);
    expect(critic.batch_prompt_tokens).toBeLessThan(critic.prompt_tokens);
    // Price 1 $/M input, 2 $/M output; batch tokens at half price.
    const cost = [generator, critic].reduce(
      (sum, role) =>
        sum +
        (role.prompt_tokens - (role.batch_prompt_tokens ?? 0)) +
        0.5 * (role.batch_prompt_tokens ?? 0) +
        2 * (role.completion_tokens - (role.batch_completion_tokens ?? 0)) +
        (role.batch_completion_tokens ?? 0),
      0,
    );
    expect(manifest.totals.cost_usd).toBeCloseTo(cost / 1e6, 9);
    expect(await readFile(join(runDir, 'report.html'), 'utf8')).toMatch(
      /Tokens served through the Batch API: [\d,]+ \(\d+\.\d% of all tokens\)/,
    );
    expect(JSON.stringify(state)).not.toContain('sk-batch-secret');
  }, 120_000);

  it('honours --target: exactly that many accepted conversations', async () => {
    const cli = await runCli([...args('b3'), '--target', '4'], { env: { OPENAI_API_KEY: 'sk-batch-secret' } }).result;
    expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(out, 'b3', 'manifest.json'), 'utf8')));
    expect(manifest.totals.accepted).toBe(4);
    expect((await readLines(join(out, 'b3', 'conversations.jsonl'))).length).toBe(4);
  }, 120_000);

  it('re-attaches a restarted run to its pending batch instead of submitting it again', async () => {
    batches.setOptions({ hold: true });
    const created = batches.stats.batchesCreated;
    const runDir = join(out, 'b2');
    const first = runCli(args('b2'), { env: { OPENAI_API_KEY: 'sk-batch-secret' } });
    while (!(await readFile(join(runDir, 'batches.jsonl'), 'utf8').catch(() => '')).includes('"submitted"')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.child.kill('SIGKILL'); // a crash while the generator batch is pending
    await first.result;
    expect(batches.stats.batchesCreated).toBe(created + 1);

    batches.setOptions({ hold: false });
    const resumed = await runCli(['run', '--resume', runDir], { env: { OPENAI_API_KEY: 'sk-batch-secret' } }).result;
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toMatch(/completed, 3 of 3 done, 0 failed \(re-attached\)/);
    // The pending generator batch was not paid again: 1 before the crash + 3 after (listwise, then iteration 2's two stages).
    expect(batches.stats.batchesCreated).toBe(created + 4);
    const state = await readLines(join(runDir, 'batches.jsonl'));
    expect(state.filter((line) => line.status === 'submitted')).toHaveLength(4);
  }, 120_000);
});
