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
    batches = await startBatchFixture({ chatUrl: `${chat.baseUrl}/chat/completions`, promptCache: true });
    out = await mkdtemp(join(tmpdir(), 'pf-batch-e2e-'));
    configFile = join(out, 'batch.yaml');
    await writeFile(
      configFile,
      'llm:\n  batch_poll_interval_ms: 20\n  batch_quiet_window_ms: 150\nprices:\n  fixture-gen: { input_per_million_usd: 1, cached_input_per_million_usd: 0.25, output_per_million_usd: 2 }\n',
    );
  });
  afterAll(async () => {
    await batches?.close();
    await chat?.close();
  });

  // What the uninterrupted run submitted, for the restart test to compare with.
  let uninterrupted: { batches: number; requestLines: number } | undefined;

  it('sends planning round by round, then each stage of each iteration, as one batch each; keeps the batch ids and pays batch prices', async () => {
    const before = { ...batches.stats };
    const cli = await runCli(args('b1'), { env: { OPENAI_API_KEY: 'sk-batch-secret' } }).result;
    expect(cli.stderr).not.toContain('unexpected error');
    expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
    uninterrupted = {
      batches: batches.stats.batchesCreated - before.batchesCreated,
      requestLines: batches.stats.requestLines - before.requestLines,
    };
    // Nothing goes around the Batch API, profile planning's contradiction checks included.
    expect(batches.stats.directRequests - before.directRequests).toBe(0);
    const runDir = join(out, 'b1');
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    const planningCalls = manifest.planning.usage.critic.calls;
    expect(planningCalls).toBeGreaterThan(0);
    // Per iteration: the 3 generator calls in one batch, then 3 pairs x 2 orders of the listwise
    // panel in the next; planning: one batch per round of checks (12 profiles, up to 8 checks a call).
    expect(manifest.batches).toMatchObject({
      batches: uninterrupted.batches,
      requests: uninterrupted.requestLines,
      requests_by_stage: { text: 6, listwise_listwise: 12, contradiction_checks: planningCalls },
      failed_requests: 0,
      reattached: 0,
    });
    expect(uninterrupted.requestLines).toBe(2 * (3 + 6) + planningCalls);
    const planningBatches = uninterrupted.batches - 4;
    expect(planningBatches).toBeGreaterThanOrEqual(2);
    expect(planningBatches).toBeLessThan(planningCalls);
    expect(cli.stderr).toMatch(/batch batch-\d+: in_progress, 0 of 3 done, 0 failed/);
    expect(cli.stderr).toMatch(/batch batch-\d+: completed, 3 of 3 done, 0 failed/);
    expect(cli.stdout).toMatch(/tokens served through the Batch API: 100\.0%/);
    expect(cli.stdout).toMatch(/prompt tokens served from the provider's prompt cache: \d+\.\d%/);
    expect(cli.stdout).toContain(
      `Batch API: ${uninterrupted.batches} batches, ${uninterrupted.requestLines} requests (`,
    );
    expect(cli.stdout).toMatch(
      /0 failed and retried, 0 re-attached after a restart; cost \$[\d.]+ \(would be \$[\d.]+ without --batch\)/,
    );

    const state = await readLines(join(runDir, 'batches.jsonl'));
    expect(state.filter((line) => line.status === 'submitted')).toHaveLength(uninterrupted.batches);
    expect(state.filter((line) => line.status === 'completed')).toHaveLength(uninterrupted.batches);
    expect(manifest.totals.accepted).toBe(6);
    const { generator, critic } = manifest.totals.usage;
    // Every call went through a batch; the fixture reported part of the prompts as cached.
    for (const role of [generator, critic]) {
      expect(role.batch_prompt_tokens).toBe(role.prompt_tokens);
      expect(role.batch_completion_tokens).toBe(role.completion_tokens);
    }
    const cached = (generator.cached_prompt_tokens ?? 0) + (critic.cached_prompt_tokens ?? 0);
    expect(cached).toBeGreaterThan(0);
    expect(cached).toBe(batches.stats.cachedTokens - before.cachedTokens);
    // Price 1 $/M input, 0.25 $/M cached input, 2 $/M output; batch tokens at half price.
    const fullPrice = [generator, critic].reduce(
      (sum, role) =>
        sum +
        0.25 * (role.cached_prompt_tokens ?? 0) +
        (role.prompt_tokens - (role.cached_prompt_tokens ?? 0)) +
        2 * role.completion_tokens,
      0,
    );
    expect(manifest.totals.cost_usd).toBeCloseTo((0.5 * fullPrice) / 1e6, 9);
    expect(manifest.batches?.cost_without_batch_usd).toBeCloseTo(fullPrice / 1e6, 9);
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

  it('synthesize under --batch: persona expansion, planning checks and every stage go through batches', async () => {
    const before = { ...batches.stats };
    const synthConfig = join(out, 'batch-synthesize.yaml');
    await writeFile(
      synthConfig,
      `${await readFile(configFile, 'utf8')}personas:\n  mode: synthesize\n  pair_similarity_min: 0\n`,
    );
    const synthArgs = args('b-synth').map((arg) => (arg === configFile ? synthConfig : arg));
    const cli = await runCli([...synthArgs, '--iterations', '1'], { env: { OPENAI_API_KEY: 'sk-batch-secret' } })
      .result;
    expect(cli.stderr).not.toContain('unexpected error');
    expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
    expect(batches.stats.directRequests - before.directRequests).toBe(0);
    const runDir = join(out, 'b-synth');
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.totals.accepted).toBe(3);
    const plan = await readLines(join(runDir, 'plan.jsonl'));
    expect(plan).toHaveLength(3);
    for (const { pair } of plan) expect(pair.user1.id).not.toBe(pair.user2.id);
    // Everything the run asked for went through a batch, and the manifest counts it all.
    const lines = batches.stats.requestLines - before.requestLines;
    expect(manifest.batches?.requests).toBe(lines);
    expect(manifest.batches?.failed_requests).toBe(0);
    expect(manifest.batches?.requests_by_stage).toMatchObject({ text: 3, listwise_listwise: 6 });
    // The profiles' contradiction checks were asked several per call (160 calls one per call).
    const planningCalls = manifest.planning.usage.critic.calls;
    expect(manifest.batches?.requests_by_stage).toEqual({
      text: 3,
      listwise_listwise: 6,
      contradiction_checks: planningCalls,
    });
    expect(lines).toBe(3 + 6 + planningCalls);
  }, 120_000);

  it('re-attaches a run killed in the middle of planning to its pending batch: nothing is submitted twice', async () => {
    expect(uninterrupted).toBeDefined();
    const before = { ...batches.stats };
    // The first planning round completes; the second stays pending until the restart.
    batches.setOptions({ holdAfterBatches: before.batchesCreated + 1 });
    const runDir = join(out, 'b2');
    const submittedLines = async () =>
      (await readFile(join(runDir, 'batches.jsonl'), 'utf8').catch(() => '')).split('"submitted"').length - 1;
    const first = runCli(args('b2'), { env: { OPENAI_API_KEY: 'sk-batch-secret' } });
    while ((await submittedLines()) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL'); // a crash while planning's second batch is pending
    await first.result;
    expect(batches.stats.batchesCreated - before.batchesCreated).toBe(2);

    batches.setOptions({ holdAfterBatches: undefined });
    const resumed = await runCli(['run', '--resume', runDir], { env: { OPENAI_API_KEY: 'sk-batch-secret' } }).result;
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toMatch(/batch batch-\d+: completed, \d+ of \d+ done, 0 failed \(re-attached\)/);
    // The same run uninterrupted submitted exactly this much: the pending batch was not paid again.
    expect(batches.stats.batchesCreated - before.batchesCreated).toBe(uninterrupted!.batches);
    expect(batches.stats.requestLines - before.requestLines).toBe(uninterrupted!.requestLines);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.totals.accepted).toBe(6);
    // The pending batch, and the finished first one when its replies had not reached the response cache yet.
    expect(manifest.batches).toMatchObject({ batches: uninterrupted!.batches, failed_requests: 0 });
    expect(manifest.batches!.reattached).toBeGreaterThanOrEqual(1);
    expect(resumed.stdout).toContain(`${manifest.batches!.reattached} re-attached after a restart`);
  }, 120_000);

  it('Ctrl-C while a batch is pending exits at once; --resume re-attaches to the batch and pays nothing twice', async () => {
    const before = { ...batches.stats };
    batches.setOptions({ holdAfterBatches: before.batchesCreated });
    const runDir = join(out, 'b5');
    const started = runCli([...args('b5'), '--iterations', '1'], { env: { OPENAI_API_KEY: 'sk-batch-secret' } });
    const stateOf = () => readFile(join(runDir, 'batches.jsonl'), 'utf8').catch(() => '');
    while (!(await stateOf()).includes('"submitted"')) await new Promise((resolve) => setTimeout(resolve, 20));
    const retrievesBefore = batches.stats.retrieves;
    // Polled at least once, then interrupted while the batch is still pending.
    while (batches.stats.retrieves === retrievesBefore) await new Promise((resolve) => setTimeout(resolve, 20));
    started.child.kill('SIGINT');
    const stopped = await started.result;
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
    expect(stopped.stderr).toContain('batches in flight keep running at the provider');
    expect(stopped.stdout).toContain('Continue with: persona-forge run --resume');
    expect(batches.stats.batchesCreated - before.batchesCreated).toBe(1);

    batches.setOptions({ holdAfterBatches: undefined });
    const resumed = await runCli(['run', '--resume', runDir], { env: { OPENAI_API_KEY: 'sk-batch-secret' } }).result;
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toMatch(/\(re-attached\)/);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.totals.accepted).toBe(3);
    // Every batch of the run was submitted once: the one pending at Ctrl-C was re-attached, not sent again.
    expect(batches.stats.batchesCreated - before.batchesCreated).toBe(manifest.batches!.batches);
    expect(manifest.batches!.reattached).toBeGreaterThanOrEqual(1);
    expect(await stateOf()).not.toContain('sk-batch-secret');
  }, 120_000);

  it('sends a request the batch reports as failed through the retry policy, into a later batch', async () => {
    const before = { ...batches.stats };
    let failures = 0;
    // The first generator request fails once.
    batches.setOptions({
      failRequest: (_customId, body) =>
        failures === 0 && !(body as { response_format?: unknown }).response_format ? ++failures === 1 : false,
    });
    try {
      const cli = await runCli([...args('b4'), '--iterations', '1'], { env: { OPENAI_API_KEY: 'sk-batch-secret' } })
        .result;
      expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
      expect(cli.stderr).toMatch(/completed, 2 of 3 done, 1 failed/);
      const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(out, 'b4', 'manifest.json'), 'utf8')));
      expect(manifest.totals.accepted).toBe(3);
      expect(manifest.batches).toMatchObject({ failed_requests: 1, requests_by_stage: { text: 4 } });
      expect(batches.stats.failedRequests - before.failedRequests).toBe(1);
      expect(cli.stdout).toContain('1 failed and retried');
    } finally {
      batches.setOptions({ failRequest: undefined });
    }
  }, 120_000);

  it('estimate --batch sends its sample directly and prices the projection at batch prices', async () => {
    const before = { ...batches.stats };
    const common = ['--base-url', batches.baseUrl, '--model', 'fixture-gen', '--pairs', '40', '--seed', '3'];
    const estimateArgs = ['estimate', ...common, '--config', configFile, '--json'];
    const env = { env: { OPENAI_API_KEY: 'sk-batch-secret' } };
    const batched = await runCli([...estimateArgs, '--batch'], env).result;
    expect(batched.code, batched.stderr.slice(-2000)).toBe(0);
    expect(batches.stats.batchesCreated).toBe(before.batchesCreated);
    expect(batches.stats.directRequests).toBeGreaterThan(before.directRequests);
    const plain = await runCli(estimateArgs, env).result;
    expect(plain.code, plain.stderr.slice(-2000)).toBe(0);
    const [withBatch, without] = [batched, plain].map(
      (cli) => JSON.parse(cli.stdout) as { projection: { costUsd: number; tokens: { total: number } }; method: string },
    );
    expect(withBatch.projection.tokens.total).toBe(without.projection.tokens.total);
    expect(withBatch.projection.costUsd).toBeCloseTo(without.projection.costUsd / 2, 9);
    expect(withBatch.method).toContain('--batch: the sample was sent directly');
  }, 120_000);
});
