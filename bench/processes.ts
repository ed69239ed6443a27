/**
 * Child processes of the benchmarks: the simulated endpoint, one coordinator per run, and
 * `persona-forge worker` processes, plus CPU and memory readings of any process from /proc
 * (Linux). Every child is started here and stopped by its PID.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SimulatedEndpointOptions, SimulatedEndpointStats } from './simulated-endpoint.ts';
import { readRunQueueWaitMs } from './read-run-queue-wait-ms.ts';
import type { CoordinatorMessage, CoordinatorResult, CoordinatorSpec, MemorySample } from './coordinator-process.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TSX = ['--import', 'tsx'];
/** Children never inherit endpoint, key or limit settings of the shell running the benchmark. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'OPENAI_BASE_URL',
    'OPENAI_API_KEY',
    'REDIS_URL',
    'PF_MAX_IN_FLIGHT',
    'PF_REQUESTS_PER_MINUTE',
    'PF_TOKENS_PER_MINUTE',
    'PF_WORKER_CONCURRENCY',
    'PF_KEY_PREFIX',
  ]) {
    delete env[name];
  }
  return env;
}

export interface SimulatorProcess {
  baseUrl: string;
  pid: number;
  stats(): Promise<SimulatedEndpointStats>;
  reset(): Promise<void>;
  setOptions(options: Partial<SimulatedEndpointOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulatorProcess(options: SimulatedEndpointOptions): Promise<SimulatorProcess> {
  const child = fork(fileURLToPath(new URL('./simulated-endpoint-process.ts', import.meta.url)), [], {
    cwd: REPO,
    execArgv: TSX,
    env: cleanEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (message: any) => void>();
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`simulated endpoint exited with code ${code} before it was ready`)));
    child.on('message', (message: any) => {
      if (message.type === 'ready') resolve(message.baseUrl);
      else waiting.get(message.id)?.(message);
    });
    child.send(options);
  });
  child.removeAllListeners('exit');
  const ask = (type: string, extra: object = {}) =>
    new Promise<any>((resolve) => {
      const id = nextId++;
      waiting.set(id, (message) => {
        waiting.delete(id);
        resolve(message);
      });
      child.send({ type, id, ...extra });
    });
  return {
    baseUrl,
    pid: child.pid!,
    stats: async () => (await ask('stats')).stats,
    reset: async () => void (await ask('reset')),
    setOptions: async (partial) => void (await ask('set', { options: partial })),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask('close');
      await exited;
    },
  };
}

export interface CoordinatorRun {
  result: CoordinatorResult;
  pid: number;
}

/** Runs one coordinator in a fresh process (with `--expose-gc` for memory samples) and returns its report. */
export function runCoordinatorProcess(
  spec: CoordinatorSpec,
  options: { cpuProfileDir?: string; onCheckpoint?: (sample: MemorySample) => void } = {},
): Promise<CoordinatorRun> {
  const execArgv = [
    ...TSX,
    '--expose-gc',
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    // Extra Node flags for experiments, e.g. PF_BENCH_COORDINATOR_NODE_ARGS=--trace-gc.
    ...(process.env.PF_BENCH_COORDINATOR_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const child = fork(fileURLToPath(new URL('./coordinator-process.ts', import.meta.url)), [], {
    cwd: REPO,
    execArgv,
    env: cleanEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on('message', (message: CoordinatorMessage) => {
      if (message.type === 'checkpoint') return options.onCheckpoint?.(message.sample);
      settled = true;
      if (message.type === 'result') resolve({ result: message.result, pid: child.pid! });
      else reject(new Error(`coordinator failed: ${message.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`coordinator exited with code ${code} without a result`));
    });
    child.send(spec);
  });
}

/** Memory of the file response cache's index holding `entries` entries, measured in a fresh process. */
export function measureFileCacheIndex(entries: number): Promise<{ heapMb: number; rssMb: number }> {
  const child = fork(fileURLToPath(new URL('./file-cache-index-process.ts', import.meta.url)), [], {
    cwd: REPO,
    execArgv: [...TSX, '--expose-gc'],
    env: cleanEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { heapMb: number; rssMb: number }) => resolve(message));
    child.once('error', reject);
    child.once(
      'exit',
      (code) => code !== 0 && reject(new Error(`file cache index measurement exited with code ${code}`)),
    );
    child.send({ entries });
  });
}

export interface WorkerProcess {
  pid: number;
  /** Stops it with SIGTERM (SIGKILL after 30 s) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `persona-forge worker` processes (`node --import tsx src/cli/main.ts worker`, so the PID
 * is the Node process itself) and resolves once every one logged "worker ready" (within 60 s;
 * otherwise every one started is stopped and the error thrown).
 */
const workerNodeArgs = process.env.PF_BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

export async function startWorkerProcesses(
  count: number,
  options: { redisUrl: string; concurrency: number; maxInFlight?: number; cpuProfileDir?: string },
): Promise<WorkerProcess[]> {
  const args = [
    ...TSX,
    // SIGUSR2 -> full GC (bench/worker-gc-on-signal.ts), for memory readings after a GC.
    '--expose-gc',
    '--import',
    fileURLToPath(new URL('./worker-gc-on-signal.ts', import.meta.url)),
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    // Extra Node flags for experiments, e.g. PF_BENCH_WORKER_NODE_ARGS=--trace-gc (their stdout is then shown).
    ...workerNodeArgs,
    'src/cli/main.ts',
    'worker',
    '--redis',
    options.redisUrl,
    '--concurrency',
    String(options.concurrency),
    ...(options.maxInFlight ? ['--max-in-flight', String(options.maxInFlight)] : []),
    '--log-level',
    'info',
  ];
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, args, {
      cwd: REPO,
      env: cleanEnv(),
      stdio: ['ignore', workerNodeArgs.length ? 'inherit' : 'ignore', 'pipe'],
    }),
  );
  const ready = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        let buffer = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let newline: number;
          while ((newline = buffer.indexOf('\n')) !== -1) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.includes('"worker ready"')) resolve();
            else if (/"level":(40|50|60)/.test(line)) process.stderr.write(`[worker ${child.pid}] ${line}\n`);
          }
        });
        child.once('error', reject);
        child.once('exit', (code) =>
          reject(new Error(`worker exited with code ${code} before it was ready: ${buffer.slice(-500)}`)),
        );
      }),
  );
  const workers = children.map(workerHandle);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(ready),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error('workers not ready within 60 s')), 60_000)),
      ),
    ]);
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw error;
  } finally {
    clearTimeout(timer);
  }
  for (const child of children) child.removeAllListeners('exit');
  return workers;
}

function workerHandle(child: ChildProcess): WorkerProcess {
  return {
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcReading {
  /** user + system CPU time so far, ms (10 ms resolution). */
  cpuMs: number;
  /** Time the main thread was ready to run but waited for a CPU, ms (other work on the machine). */
  runQueueWaitMs: number;
  rssMb: number;
  /** Peak RSS so far (VmHWM), MB. */
  peakRssMb: number;
}

/** CPU and memory of a live process from /proc (Linux only). */
export function readProc(pid: number): ProcReading {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { cpuMs, runQueueWaitMs: readRunQueueWaitMs(pid), rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** Runs a full GC in each worker (SIGUSR2, see `startWorkerProcesses`) and waits for it to finish. */
export async function collectWorkerGarbage(workers: readonly WorkerProcess[], settleMs = 1500): Promise<void> {
  for (const worker of workers) process.kill(worker.pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, settleMs));
}
