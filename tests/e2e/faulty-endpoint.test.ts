import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_FAULT_KINDS, startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli } from '../fixtures/run-cli.ts';
import { ManifestSchema } from '../../src/schemas/manifest.ts';
import { OutcomeLineSchema } from '../../src/schemas/outcome-line.ts';

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
const readManifest = async (runDir: string) =>
  ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));

describe('a run against an endpoint where 30% of requests fail, in every way', () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    fixture = await startFixtureServer();
    out = await mkdtemp(join(tmpdir(), 'pf-faults-'));
  });
  afterAll(async () => fixture?.close());

  // Two draws of which requests fail and how; every try must complete.
  it.each([3, 8])(
    'completes at default settings with every pair accounted for, none failed, and the retries counted by cause (fault seed %i)',
    async (seed) => {
      // 429 (Retry-After: 1 s and retry-after-ms: 50), 500, 503, resets, hangs, bodies cut mid-JSON, non-JSON bodies, invalid JSON content.
      fixture.setOptions({ faults: { rate: 0.3, kinds: ALL_FAULT_KINDS, seed, retryAfter: '1', retryAfterMs: '50' } });
      fixture.requests.length = 0;
      // Default settings: 3 iterations × 10 pairs, 4 candidates, 120 s timeout, the default retry policy and hedging.
      const result = await runCli(['run', '--base-url', fixture.baseUrl, '--out', out, '--run-id', `faults-${seed}`], {
        timeoutMs: 400_000,
      }).result;
      expect(result.stderr).not.toMatch(/unhandled|unexpected error/i);
      expect(result.code).toBe(0);

      const runDir = join(out, `faults-${seed}`);
      const manifest = await readManifest(runDir);
      expect(manifest.status).toBe('completed');
      expect(manifest.totals.pairs).toBe(30);
      expect(manifest.totals.accepted + manifest.totals.rejected).toBe(30);
      expect(manifest.totals.failed).toBe(0);
      const outcomes = (await readLines(join(runDir, 'outcomes.jsonl'))).map((line) => OutcomeLineSchema.parse(line));
      expect(new Set(outcomes.map((line) => `${line.iteration}/${line.pair_id}`)).size).toBe(30);
      expect(outcomes.every((line) => line.status !== 'failed')).toBe(true);

      const retries: Record<string, number> = {};
      let hedges = 0;
      for (const usage of [manifest.totals.usage.generator, manifest.totals.usage.critic]) {
        for (const [cause, count] of Object.entries(usage.faults?.retries ?? {}))
          retries[cause] = (retries[cause] ?? 0) + count;
        hedges += usage.faults?.hedges ?? 0;
      }
      for (const cause of ['rate_limited', 'server_error', 'connection_reset', 'truncated_body', 'malformed_body']) {
        expect(retries[cause], cause).toBeGreaterThan(0);
      }
      // Hangs never cost the 120 s timeout: they are hedged at the learned deadline.
      expect(fixture.requests.some((request) => request.fault === 'hang')).toBe(true);
      expect(hedges).toBeGreaterThan(0);
    },
    420_000,
  );

  it('cuts hangs short: with 10% of requests never answered and the default 120 s timeout, the run ends well within this 90 s test', async () => {
    fixture.setOptions({ faults: { rate: 0.1, kinds: ['hang'], seed: 21 } });
    fixture.requests.length = 0;
    const args = [
      'run',
      '--base-url',
      fixture.baseUrl,
      '--out',
      out,
      '--run-id',
      'hangs',
      '--iterations',
      '1',
      '--pairs',
      '6',
    ];
    const result = await runCli(args, { timeoutMs: 85_000 }).result;
    expect(result.code).toBe(0);
    const manifest = await readManifest(join(out, 'hangs'));
    expect(manifest.totals.failed).toBe(0);
    expect(manifest.totals.accepted + manifest.totals.rejected).toBe(6);
    const hung = fixture.requests.filter((request) => request.fault === 'hang').length;
    const faults = [manifest.totals.usage.generator.faults, manifest.totals.usage.critic.faults];
    const hedges = faults.reduce((sum, item) => sum + (item?.hedges ?? 0), 0);
    const abandoned = faults.reduce((sum, item) => sum + (item?.abandoned ?? 0), 0);
    expect(hung).toBeGreaterThan(0);
    expect(hedges).toBeGreaterThan(0);
    // Every hung request lost to another copy: none waited out the timeout.
    expect(abandoned).toBe(hung);
    expect(faults.reduce((sum, item) => sum + (item?.abandoned_prompt_tokens ?? 0), 0)).toBeGreaterThan(0);
  }, 90_000);
});
