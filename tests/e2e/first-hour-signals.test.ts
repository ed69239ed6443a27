import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli, type CliResult } from '../fixtures/run-cli.ts';

/** Waits for `condition`; fails at once (with its output) if the CLI exits first. */
const until = async (condition: () => boolean | Promise<boolean>, started: ReturnType<typeof runCli>) => {
  let exited: CliResult | undefined;
  void started.result.then((result) => (exited = result));
  while (!(await condition())) {
    if (exited) throw new Error(`the CLI exited (${exited.code}) before the moment to signal it:\n${exited.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('a signal in every phase of a run', () => {
  let out: string;
  let fixture: FixtureServer;
  let silent: Server;
  let silentUrl: string;
  let silentRequests = 0;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'pf-signals-'));
    // Every contradiction check takes 200 ms, so planning 1,000 pairs lasts long enough to be interrupted.
    fixture = await startFixtureServer({ latencyMs: 200 });
    // An endpoint that accepts the connection and never answers.
    silent = createServer(() => (silentRequests += 1));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    silentUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  });
  afterAll(async () => {
    await fixture?.close();
    silent?.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await rm(out, { recursive: true, force: true });
  });

  it('while the endpoint is probed: exit 130 at the first SIGTERM, nothing written', async () => {
    const started = runCli([
      'run',
      '--base-url',
      silentUrl,
      '--out',
      join(out, 'probe'),
      '--pairs',
      '1',
      '--iterations',
      '1',
    ]);
    await until(() => silentRequests > 0, started);
    started.child.kill('SIGTERM');
    const result = await started.result;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('interrupted');
    expect(result.stderr).not.toContain('    at ');
    await expect(readdir(join(out, 'probe'))).rejects.toThrow(/ENOENT/);
  });

  it('estimate removes its sample directory when a SIGTERM stops it', async () => {
    const temp = await mkdtemp(join(tmpdir(), 'pf-estimate-signal-'));
    const samples = async () => (await readdir(temp)).filter((name) => name.startsWith('persona-forge-estimate-'));
    const started = runCli(
      ['estimate', '--base-url', fixture.baseUrl, '--pairs', '50', '--iterations', '1', '--sample-pairs', '3'],
      { env: { TMPDIR: temp } },
    );
    await until(async () => (await samples()).length > 0, started);
    started.child.kill('SIGTERM');
    const result = await started.result;
    expect(result.code, result.stderr).toBe(130);
    expect(await samples()).toEqual([]);
    await rm(temp, { recursive: true, force: true });
  });

  it('while pairs are planned: the first SIGTERM stops planning, exit 130, and --resume is offered', async () => {
    const before = fixture.stats.byKind.contradiction_checks ?? 0;
    const started = runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--out',
      out,
      '--run-id',
      'planning',
      '--pairs',
      '1000',
      '--iterations',
      '1',
    ]);
    await until(() => (fixture.stats.byKind.contradiction_checks ?? 0) > before, started);
    started.child.kill('SIGTERM');
    const result = await started.result;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stdout).toContain(`Interrupted. Continue with: persona-forge run --resume ${join(out, 'planning')}`);
    const manifest = JSON.parse(await readFile(join(out, 'planning', 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('interrupted');
    expect(manifest.planning.usage.critic.calls).toBeGreaterThan(0);
    expect(await readFile(join(out, 'planning', 'plan.jsonl'), 'utf8')).toBe('');
  });
});
