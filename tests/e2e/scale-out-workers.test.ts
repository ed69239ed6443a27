/**
 * Scale-out end to end: a real redis-server, real `persona-forge worker` processes and a
 * `persona-forge run --redis` coordinator started through the CLI, against the HTTP fixture.
 * One file on purpose: the scenarios share one Redis and one pool of workers and run one after
 * another, so timing-sensitive settings (2 s job locks) do not compete for the CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetRowSchema } from '../../src/schemas/dataset-row.ts';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.ts';
import { serviceMissing } from '../fixtures/require-service.ts';

const redisMissing = serviceMissing(
  'redis-server',
  'the worker-process scale-out tests (tests/e2e/scale-out-workers.test.ts)',
);

const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'bin/persona-forge.js');
/** The Redis password: it must never show up in logs or run files. */
const REDIS_PASSWORD = 'e2e-redis-pw';
/** Short BullMQ locks so a killed worker's jobs come back in ~2 s instead of 30 s. */
const WORKER_TUNING = ['--lock-duration-ms', '2000', '--stalled-interval-ms', '1000', '--lease-ms', '3000'];

/** The test's environment without settings that would change what the CLI does. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of Object.keys(env)) {
    if (name.startsWith('PF_') || name === 'OPENAI_BASE_URL') delete env[name];
  }
  return env;
}

interface WorkerProcess {
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

let fixture: FixtureServer;
let redis: RedisServer;
let workDir: string;
let configPath: string;
const workers: WorkerProcess[] = [];
const children = new Set<ChildProcess>();

function startWorker(redisUrl: string, extraArgs: string[] = []): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'worker',
      '--redis',
      redisUrl,
      '--base-url',
      fixture.baseUrl,
      '--concurrency',
      '4',
      '--log-level',
      'info',
      ...WORKER_TUNING,
      ...extraArgs,
    ],
    { cwd: REPO, env: childEnv({ OPENAI_API_KEY: 'sk-test-worker' }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolveExit(code);
    }),
  );
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 30_000);
    const onData = () => {
      if (!output.includes('"msg":"worker ready"')) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolveReady({ child, log: () => output, exited });
    };
    child.stderr!.on('data', onData);
    exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready:\n${output}`)));
  });
}

interface RunResult {
  code: number | null;
  output: string;
  runDir: string;
}

/** Starts a coordinator; `resume: true` continues the run directory of `runId` instead. */
function startRun(
  args: string[],
  runId: string,
  options: { resume?: boolean } = {},
): { done: Promise<RunResult>; runDir: string; child: ChildProcess } {
  const out = join(workDir, 'runs');
  const runDir = join(out, runId);
  const settings = options.resume
    ? ['--resume', runDir]
    : ['--config', configPath, '--candidates', '2', '--seed', '7', '--out', out, '--run-id', runId];
  const child = spawn(
    process.execPath,
    [CLI, 'run', '--base-url', fixture.baseUrl, ...settings, '--log-level', 'warn', ...args],
    { cwd: REPO, env: childEnv({ OPENAI_API_KEY: 'sk-test-coordinator' }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const done = new Promise<RunResult>((resolveRun) =>
    child.once('exit', (code) => {
      children.delete(child);
      expect(output).not.toContain(REDIS_PASSWORD);
      resolveRun({ code, output, runDir });
    }),
  );
  return { done, runDir, child };
}

async function jsonl(path: string): Promise<any[]> {
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

/** Waits until the fixture has had no request in flight and no new request for `quietMs`. */
async function waitForQuietEndpoint(quietMs: number): Promise<void> {
  let seen = fixture.requests.length;
  let quietSince = Date.now();
  await waitFor(
    async () => {
      if (fixture.requests.length !== seen || fixture.stats.inFlight > 0) {
        seen = fixture.requests.length;
        quietSince = Date.now();
      }
      return Date.now() - quietSince >= quietMs;
    },
    60_000,
    'the endpoint to go quiet',
  );
}

/** Every planned pair has exactly one outcome and (all accepted here) exactly one row. */
async function expectEveryPairOnce(runDir: string, pairs: number) {
  const rows = await jsonl(join(runDir, 'conversations.jsonl'));
  const outcomes = await jsonl(join(runDir, 'outcomes.jsonl'));
  const planned = await jsonl(join(runDir, 'plan.jsonl'));
  expect(planned).toHaveLength(pairs);
  expect(outcomes).toHaveLength(pairs);
  expect(new Set(outcomes.map((outcome) => `${outcome.iteration}/${outcome.pair_id}`)).size).toBe(pairs);
  expect(outcomes.every((outcome) => outcome.status === 'accepted')).toBe(true);
  expect(rows).toHaveLength(pairs);
  expect(new Set(rows.map((row) => row.id)).size).toBe(pairs);
  const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
  expect(manifest.status).toBe('completed');
  for (const name of await readdir(runDir, { recursive: true })) {
    const path = join(runDir, String(name));
    if ((await stat(path)).isFile()) expect(await readFile(path, 'utf8'), path).not.toMatch(/e2e-redis-pw|sk-test/);
  }
  expect(manifest.executor).toBe('bullmq');
  return { rows, outcomes, manifest };
}

beforeAll(async () => {
  if (redisMissing) return;
  workDir = await mkdtemp(join(tmpdir(), 'pf-scale-out-'));
  // Three critics (two filters, one ranker): 7 LLM calls per pair with 2 candidates.
  const critics = join(workDir, 'critics');
  await mkdir(critics);
  for (const name of ['consistency', 'depth', 'diversity', 'likability']) {
    await writeFile(join(critics, `${name}.md`), `---\nname: ${name}\nenabled: false\n---\n`);
  }
  configPath = join(workDir, 'config.yaml');
  await writeFile(
    configPath,
    // The paper's per-expert panel: the call counts below are per critic.
    `profiles:\n  contradiction_check: false\ncritique:\n  critics_dir: ${critics}\n  selection: round-robin\nllm:\n  max_in_flight: 3\n`,
  );
  fixture = await startFixtureServer();
  redis = await startRedisServer({ appendOnly: true, password: REDIS_PASSWORD });
  for (let index = 0; index < 3; index++) workers.push(await startWorker(redis.url));
}, 90_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await redis?.stop();
  await fixture?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe.skipIf(redisMissing)('persona-forge run --redis with worker processes', () => {
  it('produces the same rows, with the same schema, as the in-process executor on the same seed', async () => {
    const inProcess = await startRun(['--pairs', '6', '--iterations', '2'], 'parity-in-process').done;
    expect(inProcess.code, inProcess.output).toBe(0);
    const distributed = await startRun(['--pairs', '6', '--iterations', '2', '--redis', redis.url], 'parity-bullmq')
      .done;
    expect(distributed.code, distributed.output).toBe(0);

    const expected = await jsonl(join(inProcess.runDir, 'conversations.jsonl'));
    const { rows } = await expectEveryPairOnce(distributed.runDir, 12);
    expect(rows).toHaveLength(expected.length);
    const shape = (row: any) => ({
      keys: Object.keys(row).sort(),
      lineage: Object.keys(row.lineage).sort(),
      usage: Object.keys(row.usage).sort(),
    });
    for (const row of rows) {
      expect(DatasetRowSchema.safeParse(row).success).toBe(true);
      expect(shape(row)).toEqual(shape(expected[0]));
    }
    // Same pairs, same few-shot choices, same winners: only the run id in row ids differs.
    const key = (row: any) => `${row.iteration}/${row.pair_id}`;
    const view = (all: any[]) =>
      Object.fromEntries(
        all.map((row) => [
          key(row),
          {
            turns: row.turns,
            few_shot: row.lineage.few_shot_ids.map((id: string) => id.replace(/^parity-[a-z-]+?-it/, 'it')),
            winner: row.lineage.candidate_index,
          },
        ]),
      );
    expect(view(rows)).toEqual(view(expected));
    const manifest = JSON.parse(await readFile(join(distributed.runDir, 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).not.toContain('sk-test');
  });

  it('keeps the endpoint at or under max_in_flight across all workers together', async () => {
    fixture.setOptions({ latencyMs: 25 });
    const before = fixture.stats.total;
    fixture.stats.maxConcurrent = 0;
    const run = await startRun(['--pairs', '12', '--iterations', '1', '--redis', redis.url], 'in-flight').done;
    fixture.setOptions({ latencyMs: 0 });
    expect(run.code, run.output).toBe(0);
    await expectEveryPairOnce(run.runDir, 12);
    // 3 workers x 4 jobs x several parallel critic calls want far more than 3 at once.
    expect(fixture.stats.total - before).toBeGreaterThanOrEqual(12 * 7);
    expect(fixture.stats.maxConcurrent).toBeLessThanOrEqual(3);
    expect(fixture.stats.maxConcurrent).toBeGreaterThanOrEqual(2);
  });

  it('survives a worker SIGKILLed mid-iteration: every pair is accounted for exactly once', async () => {
    fixture.setOptions({ latencyMs: 15 });
    const run = startRun(['--pairs', '40', '--iterations', '1', '--redis', redis.url], 'worker-killed');
    await waitFor(
      async () => (await jsonl(join(run.runDir, 'outcomes.jsonl'))).length >= 4,
      60_000,
      'the first outcomes',
    );
    const victim = workers.shift()!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe(null);
    const result = await run.done;
    fixture.setOptions({ latencyMs: 0 });
    expect(result.code, result.output).toBe(0);
    await expectEveryPairOnce(result.runDir, 40);
    // The killed worker held jobs: a survivor found them stalled and they ran again.
    expect(workers.map((worker) => worker.log()).join('\n')).toContain('"msg":"job stalled"');
    workers.push(await startWorker(redis.url));
  });

  it('survives a redis-server restart (AOF on) mid-run with nothing lost', async () => {
    fixture.setOptions({ latencyMs: 15 });
    const run = startRun(['--pairs', '40', '--iterations', '1', '--redis', redis.url], 'redis-restart');
    await waitFor(
      async () => (await jsonl(join(run.runDir, 'outcomes.jsonl'))).length >= 4,
      60_000,
      'the first outcomes',
    );
    const pidBefore = redis.pid;
    await redis.restart({ signal: 'SIGKILL', downtimeMs: 500 });
    expect(redis.pid).not.toBe(pidBefore);
    const result = await run.done;
    fixture.setOptions({ latencyMs: 0 });
    expect(result.code, result.output).toBe(0);
    await expectEveryPairOnce(result.runDir, 40);
    expect(workers.every((worker) => worker.child.exitCode === null)).toBe(true);
  });

  it('resumes a coordinator that died: no row lost or duplicated, no finished LLM call paid again', async () => {
    fixture.setOptions({ latencyMs: 15 });
    const isLlmCall = (kind: string) =>
      kind === 'generator' || kind.startsWith('critic_') || kind.startsWith('pairwise_');
    // A job that an earlier scenario's Redis restart or killed worker left running twice can
    // still be calling the endpoint after that run ended; its calls must not count here.
    await waitForQuietEndpoint(3_000);
    const firstIndex = fixture.requests.length;
    const first = startRun(['--pairs', '30', '--iterations', '1', '--redis', redis.url], 'coordinator-killed');
    await waitFor(
      async () => (await jsonl(join(first.runDir, 'outcomes.jsonl'))).length >= 6,
      60_000,
      'the first outcomes',
    );
    first.child.kill('SIGKILL');
    expect((await first.done).code).toBe(null);
    const written = (await jsonl(join(first.runDir, 'outcomes.jsonl'))).length;
    expect(written).toBeLessThan(30);

    const resumed = await startRun(['--redis', redis.url], 'coordinator-killed', { resume: true }).done;
    fixture.setOptions({ latencyMs: 0 });
    expect(resumed.code, resumed.output).toBe(0);
    await expectEveryPairOnce(resumed.runDir, 30);

    // Every distinct call was made: 1 generator call + 2 filters x 2 candidates + 1 ranker x 2
    // orders per pair. A copy sent while the first was still unanswered (a hedge on a loaded
    // machine, a stalled job's second run) is allowed; a copy sent after an identical call had
    // been answered is a finished call paid again.
    const calls = fixture.requests.slice(firstIndex).filter((request) => isLlmCall(request.kind));
    const answeredAt = new Map<string, number>();
    const paidAgain: string[] = [];
    for (const call of [...calls].sort((a, b) => a.receivedAt - b.receivedAt)) {
      const key = JSON.stringify(call.body.messages);
      const earlier = answeredAt.get(key);
      if (earlier !== undefined && earlier <= call.receivedAt) paidAgain.push(`${call.kind} #${call.index}`);
      if (call.answeredAt !== undefined)
        answeredAt.set(key, Math.min(answeredAt.get(key) ?? Infinity, call.answeredAt));
    }
    expect(new Set(calls.map((call) => JSON.stringify(call.body.messages))).size).toBe(30 * 7);
    expect(paidAgain).toEqual([]);
  });

  it('stops at --max-tokens with exit 3 while workers run the pairs', async () => {
    fixture.setOptions({ latencyMs: 15 });
    const run = await startRun(
      ['--pairs', '30', '--iterations', '1', '--max-tokens', '20000', '--redis', redis.url],
      'budget-capped',
    ).done;
    fixture.setOptions({ latencyMs: 0 });
    expect(run.code, run.output).toBe(3);
    const manifest = JSON.parse(await readFile(join(run.runDir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('budget_exhausted');
    expect(manifest.stop_reason).toMatch(/--max-tokens 20000/);
    expect(manifest.iterations[0].done).toBeLessThan(30);
    const outcomes = await jsonl(join(run.runDir, 'outcomes.jsonl'));
    expect(new Set(outcomes.map((outcome) => outcome.pair_id)).size).toBe(outcomes.length);
  });

  it('stops a worker on SIGTERM with exit code 0', async () => {
    const worker = workers.pop()!;
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.log()).toContain('"msg":"worker stopped"');
    expect(worker.log()).not.toMatch(/e2e-redis-pw|sk-test/);
    expect(worker.log()).toContain('redis://:***@127.0.0.1');
  });
});

describe.skipIf(redisMissing)('Redis memory', () => {
  /**
   * Bound: 8 MB peak for 1,000 pairs. What lives in Redis: up to 1,000 queued jobs (~0.3 KB of data each:
   * few-shot examples are referenced by id), the outcome stream backlog (deflated, deleted once
   * written), the events stream (maxLen 100) and the shared LLM cache (4 replies per pair here,
   * deflated from 1 KB, 7-day TTL) — the one part that grows with the run.
   */
  const PEAK_BOUND_BYTES = 8 * 1024 * 1024;

  it(`stays under ${PEAK_BOUND_BYTES / 1024 / 1024} MB (used_memory_peak) for a 1,000-pair run`, async () => {
    const memoryRedis = await startRedisServer();
    const memoryWorkers: WorkerProcess[] = [];
    try {
      const baseline = Number((await memoryRedis.info('memory')).used_memory);
      memoryWorkers.push(...(await Promise.all([0, 1, 2].map(() => startWorker(memoryRedis.url)))));
      const critics = join(workDir, 'critics-one');
      await mkdir(critics);
      for (const name of ['consistency', 'depth', 'diversity', 'likability', 'coherency', 'faithfulness']) {
        await writeFile(join(critics, `${name}.md`), `---\nname: ${name}\nenabled: false\n---\n`);
      }
      const started = Date.now();
      const run = await startRun(
        ['--pairs', '1000', '--iterations', '1', '--critics', critics, '--redis', memoryRedis.url],
        'memory',
      ).done;
      const seconds = (Date.now() - started) / 1000;
      expect(run.code, run.output).toBe(0);
      await expectEveryPairOnce(run.runDir, 1000);

      const memory = await memoryRedis.info('memory');
      const peak = Number(memory.used_memory_peak);
      const keys = Number(/keys=(\d+)/.exec((await memoryRedis.info('keyspace')).db0 ?? '')?.[1] ?? 0);
      console.log(
        `1,000 pairs via 3 workers in ${seconds.toFixed(1)} s: used_memory_peak ${(peak / 1024 / 1024).toFixed(2)} MB ` +
          `(baseline ${(baseline / 1024 / 1024).toFixed(2)} MB, now ${(Number(memory.used_memory) / 1024 / 1024).toFixed(2)} MB, ${keys} keys)`,
      );
      expect(peak).toBeLessThan(PEAK_BOUND_BYTES);
      // Finished jobs leave nothing behind but the cache and the run's small keys.
      expect(await memoryRedis.command('EXISTS', 'pf:pair-jobs:completed')).toContain(':0');
      expect(Number((await memoryRedis.command('XLEN', 'pf:pair-jobs:events')).slice(1))).toBeLessThanOrEqual(300);
      expect(Number((await memoryRedis.command('XLEN', 'pf:run:memory:outcomes')).slice(1))).toBe(0);
    } finally {
      for (const worker of memoryWorkers) worker.child.kill('SIGKILL');
      await memoryRedis.stop();
    }
  }, 150_000);
});
