import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli, type CliResult } from '../fixtures/run-cli.ts';
import { writeTinyGguf } from '../../scripts/write-tiny-gguf.ts';

/** One message line (besides JSON log lines: no terminal here), named flag or key, no stack trace: what every bad input must get. */
function expectOneLineBadInput(result: CliResult, ...needles: string[]) {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith('{"level"'));
  expect(lines, result.stderr).toHaveLength(1);
  for (const needle of needles) expect(result.stderr).toContain(needle);
  expect(result.stderr).not.toContain('    at ');
}

describe('bad input on the command line: one line, exit 2, nothing written', () => {
  let root: string;
  let out: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pf-first-hour-'));
    out = join(root, 'out');
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it.each([
    ['--pairs', '99999999999', 'from 1 to 1000000'],
    ['--pairs', '1e3', 'from 1 to 1000000'],
    ['--pairs', '0x10', 'from 1 to 1000000'],
    ['--iterations', '101', 'from 1 to 100'],
    ['--candidates', '17', 'from 1 to 16'],
    ['--seed', '-1', 'from 0 to 4294967295'],
    ['--max-tokens', '2.5', 'from 1 to'],
  ])('%s %s is refused with the accepted range', async (flag, value, range) => {
    const result = await runCli(['run', flag, value, '--base-url', 'http://127.0.0.1:59999/v1', '--out', out]).result;
    expectOneLineBadInput(result, `'${flag} <`, `'${value}' is invalid`, range);
    expect(existsSync(out)).toBe(false);
  });

  it('--out below a file (ENOTDIR) names --out and the file', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    for (const target of [file, join(file, 'sub')]) {
      const result = await runCli(['run', '--base-url', 'http://127.0.0.1:59999/v1', '--out', target]).result;
      expectOneLineBadInput(result, `--out ${target}`, 'is a file, not a directory', 'pass a directory with --out DIR');
    }
  });

  it('--out /proc/x fails at once instead of spinning (Node mkdir -p loops on ENOENT there)', async () => {
    const result = await runCli(['run', '--base-url', 'http://127.0.0.1:59999/v1', '--out', '/proc/persona-forge-x'], {
      timeoutMs: 30_000,
    }).result;
    expectOneLineBadInput(
      result,
      '--out /proc/persona-forge-x',
      'cannot create directories in /proc',
      'pass a writable directory with --out DIR',
    );
  });

  it.skipIf(!existsSync('/sys/kernel'))(
    '--out on a file system that refuses new directories (sysfs) names the reason',
    async () => {
      const result = await runCli(['run', '--base-url', 'http://127.0.0.1:59999/v1', '--out', '/sys/persona-forge-x'])
        .result;
      expectOneLineBadInput(result, '--out /sys/persona-forge-x', 'cannot create directories in /sys', '--out DIR');
    },
  );

  const isRoot = process.getuid?.() === 0;
  if (isRoot)
    console.warn(
      'NOTICE: running as root, which may write anywhere: the EACCES --out case is skipped (it runs as a normal user).',
    );
  it.skipIf(isRoot)('--out in a directory without write permission (EACCES)', async () => {
    const locked = join(root, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    const result = await runCli(['run', '--base-url', 'http://127.0.0.1:59999/v1', '--out', join(locked, 'runs')])
      .result;
    expectOneLineBadInput(result, 'EACCES', '--out DIR');
    expect(await readdir(locked)).toEqual([]);
  });

  it('a file that is not a GGUF model, and a truncated one, are exit 2 naming the file', async () => {
    const garbage = join(root, 'garbage.gguf');
    await writeFile(garbage, 'this is not a model');
    const first = await runCli(['run', '--model-path', garbage, '--out', out]).result;
    expectOneLineBadInput(first, garbage, 'not a GGUF model', 'pass a .gguf file');

    const whole = join(root, 'whole.gguf');
    await writeTinyGguf(whole, { seed: 1 });
    const truncated = join(root, 'truncated.gguf');
    await writeFile(truncated, (await readFile(whole)).subarray(0, 64));
    const second = await runCli(['run', '--model-path', truncated, '--out', out]).result;
    // llama.cpp prints its own lines about the load; ours is the last one.
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr.trim().split('\n').at(-1)).toMatch(
      /^persona-forge: .*truncated\.gguf: --model-path: Could not load the model .*download it again/,
    );
    expect(second.stderr).not.toContain('    at ');
    expect(existsSync(out)).toBe(false);
  });

  it('unknown config keys are errors with a "did you mean" suggestion', async () => {
    const config = join(root, 'typos.yaml');
    await writeFile(config, 'pairz: 5\nllm:\n  modle: x\n');
    const result = await runCli(['run', '--config', config, '--out', out]).result;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid config (from ${config}`);
    expect(result.stderr).toContain('  - pairz: unknown key; did you mean "pairs"?');
    expect(result.stderr).toContain('  - llm.modle: unknown key; did you mean "model"?');
    expect(result.stderr).not.toContain('    at ');
    expect(existsSync(out)).toBe(false);
  });
});

describe('an endpoint that refuses the key', () => {
  let server: Server;
  let baseUrl: string;
  let requests = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      requests += 1;
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error' } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exits 2 with the server words and the fix, without the key, and creates no run directory', async () => {
    const out = await mkdtemp(join(tmpdir(), 'pf-401-'));
    const result = await runCli(
      ['run', '--base-url', baseUrl, '--out', out, '--run-id', 'refused', '--pairs', '1', '--iterations', '1'],
      {
        env: { OPENAI_API_KEY: 'sk-wrong-secret-401' },
      },
    ).result;
    expectOneLineBadInput(result, 'answered 401', 'Incorrect API key provided', 'check OPENAI_API_KEY');
    expect(result.stderr).not.toContain('sk-wrong-secret-401');
    expect(await readdir(out)).toEqual([]);
    expect(requests).toBe(1);
    await rm(out, { recursive: true, force: true });
  });
});

describe('an endpoint that does not know the model', () => {
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    // Lists its models (so the probe passes) and answers every chat completion with 404, as OpenAI does for an unknown model.
    server = createServer((request, response) => {
      const models = request.url?.endsWith('/models');
      response.writeHead(models ? 200 : 404, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          models
            ? { object: 'list', data: [{ id: 'served-model', object: 'model' }] }
            : { error: { message: 'The model `no-such-model` does not exist.', type: 'invalid_request_error' } },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exits 2 naming the model and the fix, and removes the run directory it had begun', async () => {
    const out = await mkdtemp(join(tmpdir(), 'pf-404-'));
    const result = await runCli([
      'run',
      '--base-url',
      baseUrl,
      '--model',
      'no-such-model',
      '--out',
      out,
      '--run-id',
      'unknown-model',
      '--pairs',
      '1',
      '--iterations',
      '1',
    ]).result;
    expectOneLineBadInput(
      result,
      'answered 404',
      'The model `no-such-model` does not exist',
      'check the model name and --base-url',
    );
    expect(await readdir(out)).toEqual([]);
    await rm(out, { recursive: true, force: true });
  });
});

describe('resume and run ids with changed settings, and estimate', () => {
  let fixture: FixtureServer;
  let out: string;
  const base = () => [
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
  ];
  beforeAll(async () => {
    fixture = await startFixtureServer();
    out = await mkdtemp(join(tmpdir(), 'pf-resume-diff-'));
    const first = await runCli(['run', ...base(), '--run-id', 'first']).result;
    expect(first.code, first.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
    await rm(out, { recursive: true, force: true });
  });

  it('--resume with a changed --candidates is refused, listing each changed key with old and new value', async () => {
    const before = await readFile(join(out, 'first', 'outcomes.jsonl'), 'utf8');
    const result = await runCli([
      'run',
      '--resume',
      join(out, 'first'),
      '--candidates',
      '3',
      '--pairs',
      '4',
      '--seed',
      '1',
    ]).result;
    expectOneLineBadInput(
      result,
      `cannot resume ${join(out, 'first')} with changed settings`,
      '--pairs 2 → 4',
      '--candidates 2 → 3',
    );
    expect(result.stderr).not.toContain('--seed'); // repeated with its stored value: no change
    expect(await readFile(join(out, 'first', 'outcomes.jsonl'), 'utf8')).toBe(before);
  });

  it('--resume applies changes that are safe mid-run (concurrency, caps) and says so', async () => {
    const result = await runCli([
      'run',
      '--resume',
      join(out, 'first'),
      '--concurrency',
      '3',
      '--max-tokens',
      '900000000',
    ]).result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('resuming with changed settings (safe mid-run): ');
    expect(result.stderr).toContain('--concurrency 4 → 3');
    expect(result.stderr).toContain('--max-tokens (unset) → 900000000');
  });

  it('the same run id with other settings names the keys that differ', async () => {
    const result = await runCli(['run', ...base(), '--run-id', 'first', '--candidates', '3', '--concurrency', '2'])
      .result;
    expectOneLineBadInput(
      result,
      'run id first is taken',
      'settings that differ: candidates 2 → 3',
      `--resume ${join(out, 'first')}`,
    );
    expect(result.stderr).not.toContain('concurrency'); // may change on resume: not a difference that matters
  });

  it('estimate leaves no temporary directory behind, also when it fails', { timeout: 120_000 }, async () => {
    const temp = await mkdtemp(join(tmpdir(), 'pf-estimate-tmp-'));
    const ok = await runCli(['estimate', ...base(), '--sample-pairs', '1', '--json'], { env: { TMPDIR: temp } }).result;
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).projection.pairs).toBe(2);
    expect((await readdir(temp)).filter((name) => name.startsWith('persona-forge-estimate-'))).toEqual([]);
    const noRetries = join(out, 'no-retries.yaml');
    await writeFile(noRetries, 'llm:\n  max_retries: 0\n');
    fixture.setOptions({ faults: { rate: 1, kinds: ['500'] } });
    const failed = await runCli(['estimate', ...base(), '--sample-pairs', '1', '--config', noRetries], {
      env: { TMPDIR: temp },
    }).result;
    fixture.setOptions({ faults: undefined });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('answered 500');
    // (tsx keeps its own cache in TMPDIR)
    expect((await readdir(temp)).filter((name) => name.startsWith('persona-forge-estimate-'))).toEqual([]);
    await rm(temp, { recursive: true, force: true });
  });
});
