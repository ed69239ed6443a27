import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startFixtureServer, type FixtureServer, type RecordedRequest } from '../fixtures/openai-fixture-server.ts';
import { runCli } from '../fixtures/run-cli.ts';
import { DatasetRowSchema } from '../../src/schemas/dataset-row.ts';
import { ManifestSchema } from '../../src/schemas/manifest.ts';
import { OutcomeLineSchema } from '../../src/schemas/outcome-line.ts';

const readLines = async (path: string) =>
  existsSync(path)
    ? (await readFile(path, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
const readManifest = async (runDir: string) =>
  ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
const requestKey = (request: RecordedRequest) =>
  createHash('sha256').update(JSON.stringify(request.body)).digest('hex');
const waitFor = async (predicate: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
};

describe('long runs: accounting, estimate, budget, target, resume, faults', () => {
  let fixture: FixtureServer;
  let out: string;
  let pricesConfig: string;
  beforeAll(async () => {
    fixture = await startFixtureServer();
    out = await mkdtemp(join(tmpdir(), 'pf-long-'));
    pricesConfig = join(out, 'prices.yaml');
    await writeFile(join(out, 'no-retry.yaml'), 'critique:\n  retry_rejected: false\n');
    await writeFile(
      pricesConfig,
      'prices:\n  gen-m: { input_per_million_usd: 2, output_per_million_usd: 8 }\n  critic-m: { input_per_million_usd: 1, output_per_million_usd: 4 }\n',
    );
  });
  afterAll(async () => fixture?.close());

  const base = (runId: string) => [
    'run',
    '--base-url',
    fixture.baseUrl,
    '--model',
    'gen-m',
    '--critic-model',
    'critic-m',
    '--out',
    out,
    '--run-id',
    runId,
    '--candidates',
    '2',
  ];

  it('accounts tokens per role and iteration and prices them from the price table', async () => {
    const { code, stdout } = await runCli([
      ...base('priced'),
      '--iterations',
      '2',
      '--pairs',
      '2',
      '--config',
      pricesConfig,
    ]).result;
    expect(code).toBe(0);
    const manifest = await readManifest(join(out, 'priced'));
    const { usage } = manifest.totals;
    const expectedCost =
      (usage.generator.prompt_tokens * 2 +
        usage.generator.completion_tokens * 8 +
        usage.critic.prompt_tokens * 1 +
        usage.critic.completion_tokens * 4) /
      1e6;
    expect(manifest.totals.cost_usd).toBeCloseTo(expectedCost, 9);
    expect(manifest.totals.cost_usd).toBeGreaterThan(0);
    expect(
      manifest.iterations.every((iteration) => iteration.usage.generator.calls > 0 && iteration.cost_usd > 0),
    ).toBe(true);
    const rows = (await readLines(join(out, 'priced', 'conversations.jsonl'))).map((row) =>
      DatasetRowSchema.parse(row),
    );
    expect(rows.every((row) => row.usage.cost_usd > 0 && row.usage.prompt_tokens > 0)).toBe(true);
    expect(stdout).toContain(`${manifest.totals.cost_usd.toFixed(4)}`);
  });

  it('estimates a run from a small sample and says how', async () => {
    const { code, stdout } = await runCli([
      'estimate',
      '--base-url',
      fixture.baseUrl,
      '--model',
      'gen-m',
      '--critic-model',
      'critic-m',
      '--pairs',
      '50',
      '--iterations',
      '2',
      '--candidates',
      '2',
      '--sample-pairs',
      '2',
      '--config',
      pricesConfig,
      '--json',
    ]).result;
    expect(code).toBe(0);
    const estimate = JSON.parse(stdout);
    expect(estimate.sample.pairs).toBe(2);
    // The sample ran in a temporary directory that is gone by now: the JSON does not name it.
    expect(estimate.sample.runDir).toBeUndefined();
    expect(estimate.projection.pairs).toBe(100);
    expect(estimate.projection.tokens.total).toBeGreaterThan(estimate.sample.tokensPerPair.generator * 90);
    expect(estimate.projection.costUsd).toBeGreaterThan(0);
    expect(estimate.projection.durationMs).toBeGreaterThan(0);
    expect(estimate.method).toContain('acceptance rate');
  });

  it('projects profile planning by the profiles it builds, not by pairs: a synthesize sample plans a pool of 20', async () => {
    const config = join(out, 'synthesize-prices.yaml');
    await writeFile(config, `${await readFile(pricesConfig, 'utf8')}personas:\n  mode: synthesize\n`);
    const { code, stdout } = await runCli([
      'estimate',
      '--base-url',
      fixture.baseUrl,
      '--model',
      'gen-m',
      '--critic-model',
      'critic-m',
      '--pairs',
      '100',
      '--iterations',
      '1',
      '--candidates',
      '2',
      '--sample-pairs',
      '3',
      '--config',
      config,
      '--json',
    ]).result;
    expect(code).toBe(0);
    const estimate = JSON.parse(stdout);
    // 3 sample pairs plan a pool of 20 profiles; 100 pairs plan 400 (4 per pair), not 100/3 x 20.
    expect(estimate.sample.planning.profiles).toBe(20);
    expect(estimate.projection.planning.profiles).toBe(400);
    expect(estimate.method).toContain('20 for the sample, 400 projected');
    const planning = estimate.sample.planning.tokens;
    expect(planning).toBeGreaterThan(0);
    expect(estimate.projection.planning.tokens).toBe(Math.round(planning * 20));
    const sampleTokens = (estimate.sample.tokensPerPair.generator + estimate.sample.tokensPerPair.critic) * 3;
    const iterationsPerPair = (sampleTokens - planning) / 3;
    expect(Math.abs(estimate.projection.tokens.total - (iterationsPerPair * 100 + planning * 20))).toBeLessThanOrEqual(
      2,
    );
    // Scaling the sample's planning by pairs would have projected 100/3 x its 20 profiles.
    expect(estimate.projection.tokens.total).toBeLessThan((sampleTokens / 3) * 100);
  });

  it('stops at --max-tokens with exit 3, writes everything, and --resume with a higher cap finishes', async () => {
    const runDir = join(out, 'capped');
    const first = await runCli([
      ...base('capped'),
      '--iterations',
      '1',
      '--pairs',
      '6',
      '--concurrency',
      '1',
      '--max-tokens',
      '20000',
    ]).result;
    expect(first.code).toBe(3);
    expect(first.stdout).toContain('Budget reached');
    const manifest = await readManifest(runDir);
    expect(manifest.status).toBe('budget_exhausted');
    expect(manifest.stop_reason).toMatch(/--max-tokens 20000/);
    const rowsBefore = await readLines(join(runDir, 'conversations.jsonl'));
    expect(manifest.totals.accepted).toBe(rowsBefore.length);
    expect(manifest.iterations[0].done).toBeLessThan(6);
    expect(existsSync(join(runDir, 'dataset.parquet'))).toBe(true);

    const second = await runCli(['run', '--resume', runDir, '--max-tokens', '100000000']).result;
    expect(second.code).toBe(0);
    const after = await readManifest(runDir);
    expect(after.status).toBe('completed');
    expect(after.iterations[0].done).toBe(6);
    const rowsAfter = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rowsAfter.slice(0, rowsBefore.length)).toEqual(rowsBefore);
    expect(new Set(rowsAfter.map((row) => row.id)).size).toBe(rowsAfter.length);
  });

  it('--target N yields exactly N accepted conversations by over-generating pairs', async () => {
    // Half the pairs have only toxic candidates, so about half are rejected.
    fixture.setOptions({
      candidateScript: ({ pairText }) =>
        createHash('md5').update(pairText).digest()[0] % 2 === 0 ? 'toxic' : 'normal',
    });
    try {
      const { code } = await runCli([
        ...base('target'),
        '--iterations',
        '2',
        '--target',
        '7',
        '--config',
        join(out, 'no-retry.yaml'),
      ]).result;
      expect(code).toBe(0);
    } finally {
      fixture.setOptions({ candidateScript: undefined });
    }
    const runDir = join(out, 'target');
    const rows = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rows).toHaveLength(7);
    const manifest = await readManifest(runDir);
    expect(manifest.iterations.map((iteration) => iteration.accepted)).toEqual([4, 3]);
    expect(manifest.totals.rejected).toBeGreaterThan(0);
    for (const iteration of manifest.iterations)
      expect(iteration.accepted + iteration.rejected + iteration.failed).toBe(iteration.pairs);
  });

  it('--target stays exact when 16 pairs in flight finish together and share durable writes', async () => {
    // The first 12 samples are toxic, so the first wave accepts few pairs, the next wave over-generates
    // from that low acceptance rate, and its pairs, all accepted, finish after the target is met.
    let samples = 0;
    fixture.setOptions({ latencyMs: 20, candidateScript: () => (samples++ < 12 ? 'toxic' : 'normal') });
    try {
      const { code } = await runCli([
        ...base('target-wide'),
        '--iterations',
        '1',
        '--target',
        '9',
        '--concurrency',
        '16',
        '--config',
        join(out, 'no-retry.yaml'),
      ]).result;
      expect(code).toBe(0);
    } finally {
      fixture.setOptions({ latencyMs: 0, candidateScript: undefined });
    }
    const runDir = join(out, 'target-wide');
    const rows = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rows).toHaveLength(9);
    const outcomes = (await readLines(join(runDir, 'outcomes.jsonl'))).map((line) => OutcomeLineSchema.parse(line));
    expect(new Set(outcomes.map((line) => line.pair_id)).size).toBe(outcomes.length);
    expect(
      outcomes
        .filter((line) => line.status === 'accepted')
        .map((line) => line.row_id)
        .sort(),
    ).toEqual(rows.map((row) => row.id).sort());
    // Pairs that finished after the target was met keep their rows in surplus.jsonl.
    const surplus = await readLines(join(runDir, 'surplus.jsonl'));
    expect(surplus.length).toBeGreaterThan(0);
    expect(outcomes.filter((line) => line.reasons.surplus_over_target === 1)).toHaveLength(surplus.length);
    const manifest = await readManifest(runDir);
    expect(manifest.totals.accepted).toBe(9);
    expect(manifest.iterations[0].done).toBe(outcomes.length);
  });

  it('resumes after a real SIGINT: no accepted row lost or duplicated, no finished request sent again', async () => {
    const runDir = join(out, 'sigint');
    fixture.setOptions({ latencyMs: 40 });
    const firstStart = fixture.requests.length;
    const { child, result } = runCli([...base('sigint'), '--iterations', '2', '--pairs', '6', '--concurrency', '2']);
    await waitFor(async () => (await readLines(join(runDir, 'outcomes.jsonl'))).length >= 3);
    child.kill('SIGINT');
    const first = await result;
    expect(first.code).toBe(130);
    expect(first.stdout).toContain(`--resume ${runDir}`);
    const firstRequests = fixture.requests.slice(firstStart);
    const rowsBefore = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rowsBefore.length).toBeGreaterThan(0);
    expect((await readManifest(runDir)).status).toBe('interrupted');

    const secondStart = fixture.requests.length;
    const second = await runCli(['run', '--resume', runDir]).result;
    fixture.setOptions({ latencyMs: 0 });
    expect(second.code).toBe(0);
    const paidBefore = new Set(firstRequests.map(requestKey));
    // GET /models (the endpoint probe before a run starts) is free and asked again on purpose.
    const repeated = fixture.requests
      .slice(secondStart)
      .filter((request) => request.method !== 'GET' && paidBefore.has(requestKey(request)));
    expect(repeated).toHaveLength(0);

    const rowsAfter = (await readLines(join(runDir, 'conversations.jsonl'))).map((row) => DatasetRowSchema.parse(row));
    expect(rowsAfter.slice(0, rowsBefore.length)).toEqual(rowsBefore);
    expect(new Set(rowsAfter.map((row) => row.id)).size).toBe(rowsAfter.length);
    const outcomes = (await readLines(join(runDir, 'outcomes.jsonl'))).map((line) => OutcomeLineSchema.parse(line));
    expect(outcomes).toHaveLength(12);
    expect(new Set(outcomes.map((line) => `${line.iteration}/${line.pair_id}`)).size).toBe(12);
  });

  it('resumes after a crash (SIGKILL) without duplicating rows', async () => {
    const runDir = join(out, 'crash');
    fixture.setOptions({ latencyMs: 40 });
    const { child, result } = runCli([...base('crash'), '--iterations', '1', '--pairs', '8', '--concurrency', '2']);
    await waitFor(async () => (await readLines(join(runDir, 'outcomes.jsonl'))).length >= 2);
    child.kill('SIGKILL');
    await result;
    fixture.setOptions({ latencyMs: 0 });
    const second = await runCli(['run', '--resume', runDir]).result;
    expect(second.code).toBe(0);
    const rows = (await readLines(join(runDir, 'conversations.jsonl'))).map((row) => DatasetRowSchema.parse(row));
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    const manifest = await readManifest(runDir);
    expect(manifest.iterations[0].done).toBe(8);
    expect(manifest.totals.accepted).toBe(rows.length);
  });

  it('survives a faulty endpoint (429, 500, hangs, truncated and malformed bodies at 20%)', async () => {
    await writeFile(join(out, 'faulty.yaml'), 'llm:\n  timeout_ms: 1500\n  max_retries: 3\n');
    fixture.setOptions({
      faults: { rate: 0.2, kinds: ['429', '500', 'hang', 'truncated', 'malformed'], seed: 11, retryAfter: '0' },
    });
    let result;
    try {
      result = await runCli(
        [
          ...base('faulty'),
          '--iterations',
          '1',
          '--pairs',
          '8',
          '--concurrency',
          '4',
          '--config',
          join(out, 'faulty.yaml'),
        ],
        { timeoutMs: 240_000 },
      ).result;
    } finally {
      fixture.setOptions({ faults: undefined });
    }
    expect([0, 1]).toContain(result.code);
    expect(result.stderr).not.toMatch(/unhandled|unexpected error/i);
    const runDir = join(out, 'faulty');
    const manifest = await readManifest(runDir);
    const iteration = manifest.iterations[0];
    expect(iteration.accepted + iteration.rejected + iteration.failed).toBe(8);
    const outcomes = (await readLines(join(runDir, 'outcomes.jsonl'))).map((line) => OutcomeLineSchema.parse(line));
    expect(outcomes).toHaveLength(8);
    for (const outcome of outcomes) {
      if (outcome.status === 'failed') expect(outcome.error).toBeTruthy();
      if (outcome.status === 'rejected') expect(Object.keys(outcome.reasons).length).toBeGreaterThan(0);
      if (outcome.status === 'accepted') expect(outcome.row_id).toBeTruthy();
    }
    const rows = await readLines(join(runDir, 'conversations.jsonl'));
    expect(rows).toHaveLength(iteration.accepted);
    expect(fixture.requests.some((request) => request.fault === 'hang')).toBe(true);
  }, 300_000);
});
