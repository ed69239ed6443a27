import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { CLI_ENTRY, REPO_ROOT, runCli } from '../fixtures/run-cli.ts';
import { findExecutable } from '../fixtures/require-service.ts';

let fixture: FixtureServer;
let out: string;
beforeAll(async () => {
  fixture = await startFixtureServer();
  out = await mkdtemp(join(tmpdir(), 'pf-first-hour-'));
});
afterAll(async () => {
  await fixture?.close();
  await rm(out, { recursive: true, force: true });
});

const readManifest = async (runDir: string) => JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));

describe('budget caps cover profile planning', () => {
  it('--pairs 1000 --max-tokens 1 stops in planning after one call, exit 3, and the hint names --max-tokens', async () => {
    const before = fixture.stats.byKind.contradiction_checks ?? 0;
    const result = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '1',
      '--pairs',
      '1000',
      '--max-tokens',
      '1',
      '--out',
      out,
      '--run-id',
      'cap',
    ]).result;
    expect(result.code, result.stderr).toBe(3);
    // Planning makes one contradiction-check call per profile attribute; the cap stops it at the first.
    expect((fixture.stats.byKind.contradiction_checks ?? 0) - before).toBe(1);
    expect(result.stdout).toContain('status: budget_exhausted (budget reached: used');
    expect(result.stdout).toContain('of --max-tokens 1 tokens');
    expect(result.stdout).toContain(
      `Budget reached (--max-tokens). Continue with: persona-forge run --resume ${join(out, 'cap')} --max-tokens <higher>`,
    );
    expect(result.stdout).not.toContain('--max-cost');
    const manifest = await readManifest(join(out, 'cap'));
    expect(manifest.status).toBe('budget_exhausted');
    expect(manifest.planning.usage.critic.calls).toBe(1);
    expect(await readFile(join(out, 'cap', 'plan.jsonl'), 'utf8')).toBe('');
  });

  it('a resume with a higher cap plans again and finishes', async () => {
    const first = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '1',
      '--pairs',
      '2',
      '--candidates',
      '2',
      '--max-tokens',
      '1',
      '--out',
      out,
      '--run-id',
      'cap-resume',
    ]).result;
    expect(first.code, first.stderr).toBe(3);
    const resumed = await runCli(['run', '--resume', join(out, 'cap-resume'), '--max-tokens', '100000000']).result;
    expect(resumed.code, resumed.stderr).toBe(0);
    const manifest = await readManifest(join(out, 'cap-resume'));
    expect(manifest.status).toBe('completed');
    expect(manifest.iterations[0].done).toBe(2);
    expect(manifest.planning.usage.critic.calls).toBeGreaterThan(1);
  });

  it('--max-cost names --max-cost in its hint', async () => {
    const config = join(out, 'prices.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(config, 'prices:\n  gpt-4o-mini: { input_per_million_usd: 1000, output_per_million_usd: 1000 }\n');
    const result = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '1',
      '--pairs',
      '50',
      '--max-cost',
      '0.01',
      '--config',
      config,
      '--out',
      out,
      '--run-id',
      'cost',
    ]).result;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toContain('Budget reached (--max-cost). Continue with:');
  });
});

const script = findExecutable('script');
if (!script)
  console.warn('NOTICE: `script` (util-linux) is missing: the pseudo-terminal test of the live line is skipped.');

/** Runs the CLI in a pseudo-terminal (util-linux `script`) and returns everything the terminal showed. */
function runInTerminal(args: string[]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI_ENTRY, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
  const env = { ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, COLUMNS: '200' };
  const child = spawn(script!, ['-qfec', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.on('data', (chunk) => (screen += chunk));
  child.stderr.on('data', (chunk) => (screen += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

describe.skipIf(!script)('a clean terminal', () => {
  it('shows the live line and the summary only; the logs go to <run>/run.log', async () => {
    const { code, screen } = await runInTerminal([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '2',
      '--pairs',
      '3',
      '--candidates',
      '2',
      '--out',
      out,
      '--run-id',
      'tty',
    ]);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/iteration 2\/2 {2}pairs 6\/6 {2}accepted \d+/);
    expect(screen).toMatch(/^total\s+6/m);
    expect(screen).not.toContain('{"level"');
    const runLog = await readFile(join(out, 'tty', 'run.log'), 'utf8');
    const events = runLog
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).msg);
    expect(events).toEqual(
      expect.arrayContaining([
        'backend ready',
        'pairs planned',
        'iteration started',
        'progress',
        'iteration finished',
        'run finished',
      ]),
    );
  });

  it('shows planning on the live line (pairs, calls, tokens, ETA) before any pair runs', async () => {
    // Contradiction checks that take 300 ms each: planning lasts a few seconds before the cap stops it.
    const slow = await startFixtureServer({ latencyMs: 300 });
    try {
      const { code, screen } = await runInTerminal([
        'run',
        '--base-url',
        slow.baseUrl,
        '--iterations',
        '1',
        '--pairs',
        '1000',
        '--max-tokens',
        '6000',
        '--out',
        out,
        '--run-id',
        'tty-planning',
      ]);
      expect(code, screen).toBe(3);
      // Pairs of the batch planned so far (finished profiles count in) and the time left.
      expect(screen).toMatch(
        /planning pairs [\d,]+\/1,000 {2}LLM calls \d+ {2}tokens [\d,]+ {2}elapsed \S+ {2}ETA (\?|\S+)/,
      );
      expect(screen).not.toContain('{"level"');
      expect(await readFile(join(out, 'tty-planning', 'run.log'), 'utf8')).toContain('"msg":"planning progress"');
    } finally {
      await slow.close();
    }
  });

  it('--log-level in a terminal adds the logs on stderr (and still writes run.log)', async () => {
    const { code, screen } = await runInTerminal([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '1',
      '--pairs',
      '2',
      '--candidates',
      '2',
      '--out',
      out,
      '--run-id',
      'tty-logs',
      '--log-level',
      'info',
    ]);
    expect(code, screen).toBe(0);
    expect(screen).toContain('"msg":"iteration finished"');
    expect(await readFile(join(out, 'tty-logs', 'run.log'), 'utf8')).toContain('"msg":"iteration finished"');
  });

  it('without a terminal the logs go to stderr and to run.log', async () => {
    const result = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '1',
      '--pairs',
      '2',
      '--candidates',
      '2',
      '--out',
      out,
      '--run-id',
      'pipe',
    ]).result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('"msg":"iteration finished"');
    expect(result.stderr).not.toContain('\x1b[2K');
    expect(await readFile(join(out, 'pipe', 'run.log'), 'utf8')).toContain('"msg":"run finished"');
  });
});
