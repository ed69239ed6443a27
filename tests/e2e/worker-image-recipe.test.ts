/**
 * The worker image's recipe (workers/Dockerfile), run the way the image build runs it, without a
 * container engine: the files the Dockerfile COPYs go into a clean directory, workers/install.sh
 * (the Dockerfile's one install step) runs there with only node and npm on PATH (no git, cmake or
 * compiler: nothing may be built), and the image's entrypoint then starts a worker that takes a
 * coordinator's pair jobs through a real redis-server.
 * The install runs offline from npm's cache (tests never touch the network): after the repository's
 * own `npm ci` (as in .ci/run) every package is cached; when one is not, the test says so and skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.ts';
import { REPO_ROOT, runCli } from '../fixtures/run-cli.ts';
import { findExecutable, serviceMissing } from '../fixtures/require-service.ts';

const redisMissing = serviceMissing(
  'redis-server',
  'the worker image recipe test (tests/e2e/worker-image-recipe.test.ts)',
);
const DOCKERFILE = readFileSync(join(REPO_ROOT, 'workers/Dockerfile'), 'utf8');

/** `COPY a b dest` lines of the Dockerfile as (sources, destination) relative to the image's WORKDIR. */
function copiedPaths(): Array<{ sources: string[]; destination: string }> {
  return DOCKERFILE.split('\n')
    .filter((line) => line.startsWith('COPY '))
    .map((line) => {
      const parts = line.slice(5).trim().split(/\s+/);
      return { sources: parts.slice(0, -1), destination: parts[parts.length - 1] };
    });
}

/** Runs a program to its end and returns its exit code and output. */
function run(
  program: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; output: string }> {
  const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe.skipIf(redisMissing)('the worker image recipe on a clean directory', () => {
  let root: string;
  let app: string;
  let onlyNode: string;
  let install: { code: number | null; output: string };
  let redis: RedisServer;
  let fixture: FixtureServer;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pf-image-'));
    app = join(root, 'app');
    await mkdir(app);
    for (const { sources, destination } of copiedPaths()) {
      for (const source of sources) {
        const target = destination.endsWith('/')
          ? join(app, destination, source.split('/').pop()!)
          : join(app, destination);
        await mkdir(dirname(target), { recursive: true });
        await cp(join(REPO_ROOT, source), target, { recursive: true });
      }
    }
    // PATH holds node and npm and nothing else: no compiler, no git, no make, no python.
    onlyNode = join(root, 'bin');
    await mkdir(onlyNode);
    await symlink(process.execPath, join(onlyNode, 'node'));
    await symlink(
      join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
      join(onlyNode, 'npm'),
    );
    install = await run('/bin/sh', ['./workers/install.sh'], {
      cwd: app,
      env: {
        HOME: process.env.HOME,
        PATH: onlyNode,
        TARGETARCH: process.arch === 'arm64' ? 'arm64' : 'amd64',
        LOCAL_MODEL: '0',
        npm_config_offline: 'true',
      },
    });
    redis = await startRedisServer();
    fixture = await startFixtureServer();
  }, 600_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await fixture?.close();
    await redis?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('the Dockerfile installs with workers/install.sh and runs as a non-root user', () => {
    expect(DOCKERFILE).toMatch(/^RUN .*sh \.\/workers\/install\.sh/m);
    expect(DOCKERFILE).toMatch(/^USER node$/m);
    expect(readFileSync(join(REPO_ROOT, 'workers/install.sh'), 'utf8')).toMatch(
      /npm ci --omit=dev --omit=optional --ignore-scripts/,
    );
    for (const tool of ['cc', 'gcc', 'make', 'cmake', 'git', 'python3']) {
      expect(findExecutable(join(onlyNode, tool))).toBeUndefined();
    }
  });

  it('installs with only node and npm, compiling nothing', async (context) => {
    if (install.code !== 0 && install.output.includes('ENOTCACHED')) {
      console.warn(
        "NOTICE: a package of the image is not in npm's cache (run `npm ci` first): the image recipe test is skipped.",
      );
      context.skip();
    }
    expect(install.code, install.output).toBe(0);
    expect(existsSync(join(app, 'node_modules', 'node-llama-cpp', 'package.json'))).toBe(true);
    // No llama.cpp build was attempted, and no GPU or other-platform binaries came along.
    expect(existsSync(join(app, 'node_modules', 'node-llama-cpp', 'llama', 'localBuilds'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', '@node-llama-cpp'))).toBe(false);
    expect(await readdir(join(app, 'node_modules', '@esbuild'))).toEqual([
      `linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`,
    ]);
    expect((await stat(join(app, 'node_modules'))).isDirectory()).toBe(true);
  });

  it('the entrypoint starts a worker that joins a coordinator and processes its pairs', async (context) => {
    if (install.code !== 0) context.skip();
    let workerOutput = '';
    worker = spawn('/bin/sh', [join(app, 'workers', 'entrypoint.sh'), 'worker', '--log-level', 'debug'], {
      cwd: app,
      env: {
        HOME: process.env.HOME,
        PATH: onlyNode,
        NODE_ENV: 'production',
        PF_REDIS_URL: redis.url,
        OPENAI_BASE_URL: fixture.baseUrl,
        PF_WORKER_CONCURRENCY: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (chunk) => (workerOutput += chunk));
    worker.stderr!.on('data', (chunk) => (workerOutput += chunk));

    const workerDied = new Promise<never>((_, reject) =>
      worker!.once('exit', (code) =>
        reject(new Error(`the worker exited (${code}) before the run finished:\n${workerOutput}`)),
      ),
    );
    const out = join(root, 'runs');
    const started = runCli(
      [
        'run',
        '--redis',
        redis.url,
        '--base-url',
        fixture.baseUrl,
        '--iterations',
        '1',
        '--pairs',
        '3',
        '--candidates',
        '2',
        '--out',
        out,
        '--run-id',
        'image',
      ],
      { timeoutMs: 240_000 },
    );
    const coordinator = await Promise.race([started.result, workerDied]).catch((error) => {
      started.child.kill('SIGKILL');
      throw error;
    });
    expect(coordinator.code, `${coordinator.stderr}\n--- worker ---\n${workerOutput}`).toBe(0);
    const outcomes = (await readFile(join(out, 'image', 'outcomes.jsonl'), 'utf8')).trim().split('\n');
    expect(outcomes).toHaveLength(3);
    // The coordinator runs no jobs itself: the image's worker did all three.
    expect(workerOutput.match(/"msg":"job done"/g) ?? []).toHaveLength(3);

    workerDied.catch(() => {});
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    worker = undefined;
  }, 300_000);
});
