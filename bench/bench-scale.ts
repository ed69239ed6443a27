/**
 * Scale: one run of N conversations on BullMQ workers against a low-latency, many-slot simulated
 * endpoint. Reads the coordinator's and the workers' RSS when the run reaches the two checkpoints
 * (e.g. 2,000 and 20,000 accepted), their peak RSS, Redis' peak memory and the response cache's
 * share of it, and times a Parquet export of the rows. The in-process file cache's index is
 * measured separately for the same number of cached replies.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisResponseCache, dropCommittedPairReplies } from '../src/executors/redis/redis-response-cache.ts';
import { RedisCommandBatch } from '../src/executors/redis/redis-command-batch.ts';
import { writeLargeRunDirectory } from '../tests/fixtures/write-large-run-directory.ts';
import type { EndOfRunPhase, PhaseReading } from './end-of-run-process.ts';
import { startRedisServer } from '../tests/fixtures/redis-server.ts';
import {
  measureFileCacheIndex,
  collectWorkerGarbage,
  readProc,
  runCoordinatorProcess,
  startSimulatorProcess,
  startWorkerProcesses,
  type ProcReading,
} from './processes.ts';
import type { BenchScenario } from './scenarios.ts';
import { benchRunConfig, type BenchRunOptions } from './bench-efficiency.ts';
import { currentLoad } from './machine.ts';

export interface ScaleMeasurement {
  conversations: number;
  checkpoints: [number, number];
  calls: number;
  wallMs: number;
  coordinator: {
    rssMb: [number, number];
    heapUsedMb: [number, number];
    peakRssMb: number;
    peakRssDuringJobsMb: number;
    cpuMsPerCall: number;
  };
  workers: {
    /** RSS after a full GC in the worker, at the two checkpoints. */
    rssMb: Array<[number, number]>;
    /** RSS as read at the checkpoints, before that GC (V8's committed heap, garbage included). */
    rssBeforeGcMb: Array<[number, number]>;
    peakRssMb: number[];
    cpuMsPerCall: number;
  };
  redis: {
    usedMb: [number, number];
    peakMb: number;
    cacheKeys: number;
    cacheMb: number;
  };
  parquetExportMs: number;
  /** Last pair to the end of `runPipeline` (pool update, Parquet, manifest, dataset card, report). */
  finishWallMs: number;
  /** The file cache index (in-process runs) for as many cached replies as this run made. */
  fileCacheIndexMb: number;
  accepted: number;
  failed: number;
  loadAverage: number;
}

const MB = 1024 * 1024;

export async function measureScale(scenario: BenchScenario, options: BenchRunOptions): Promise<ScaleMeasurement> {
  const settings = scenario.scale;
  const simulator = await startSimulatorProcess(settings.endpoint);
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const workers = await startWorkerProcesses(settings.workers, {
    redisUrl: redisServer.url,
    concurrency: settings.workerConcurrency,
    maxInFlight: settings.maxInFlight,
    cpuProfileDir: options.cpuProfileDir,
  });
  try {
    const workersBefore = workers.map((worker) => readProc(worker.pid));
    const atCheckpoint: Array<{
      workers: ProcReading[];
      workersAfterGc: Promise<ProcReading[]>;
      redisUsedMb: Promise<number>;
    }> = [];
    const redisUsedMb = async () => Number((await redisServer.info('memory')).used_memory) / MB;
    await simulator.reset();
    options.log(
      `scale: ${settings.conversations} conversations on ${workers.length} workers x ${settings.workerConcurrency}, ${settings.endpoint.maxConcurrent} endpoint slots`,
    );
    const { result } = await runCoordinatorProcess(
      {
        executor: 'bullmq',
        redisUrl: redisServer.url,
        config: benchRunConfig({
          out: options.workDir,
          runId: `scale-${Date.now()}`,
          baseUrl: simulator.baseUrl,
          pairs: settings.conversations,
          concurrency: settings.workers * settings.workerConcurrency,
          maxInFlight: settings.maxInFlight,
        }),
        memoryCheckpoints: settings.checkpoints,
        timeParquetExport: true,
        cleanUp: true,
      },
      {
        cpuProfileDir: options.cpuProfileDir,
        onCheckpoint: (sample) => {
          const read = () => workers.map((worker) => readProc(worker.pid));
          atCheckpoint.push({
            workers: read(),
            workersAfterGc: collectWorkerGarbage(workers).then(read),
            redisUsedMb: redisUsedMb(),
          });
          options.log(`  ${sample.accepted} accepted: coordinator RSS ${sample.rssMb.toFixed(0)} MB`);
        },
      },
    );
    const stats = await simulator.stats();
    const workersAfter = workers.map((worker) => readProc(worker.pid));
    const memory = await redisServer.info('memory');
    const cache = await measureRedisCache(redis, Number(memory.used_memory) / MB);
    const fileIndex = await measureFileCacheIndex(cache.keys);
    const [first, second] = [atCheckpoint[0], atCheckpoint[atCheckpoint.length - 1]];
    const pairOf = <T>(pick: (reading: { workers: ProcReading[] }) => T): [T, T] => [pick(first), pick(second)];
    const afterGc = [await first.workersAfterGc, await second.workersAfterGc];
    return {
      conversations: settings.conversations,
      checkpoints: settings.checkpoints,
      calls: stats.requests,
      wallMs: result.wallMs,
      coordinator: {
        rssMb: [result.memory[0]?.rssMb ?? Number.NaN, result.memory.at(-1)?.rssMb ?? Number.NaN],
        heapUsedMb: [result.memory[0]?.heapUsedMb ?? Number.NaN, result.memory.at(-1)?.heapUsedMb ?? Number.NaN],
        peakRssMb: result.peakRssMb,
        peakRssDuringJobsMb: result.peakRssDuringJobsMb,
        cpuMsPerCall: result.cpuMs / stats.requests,
      },
      workers: {
        rssMb: workers.map((_worker, index): [number, number] => [afterGc[0][index].rssMb, afterGc[1][index].rssMb]),
        rssBeforeGcMb: workers.map((_worker, index) => pairOf((reading) => reading.workers[index].rssMb)),
        peakRssMb: workersAfter.map((reading) => reading.peakRssMb),
        cpuMsPerCall:
          workersAfter.reduce((sum, reading, index) => sum + reading.cpuMs - workersBefore[index].cpuMs, 0) /
          stats.requests,
      },
      redis: {
        usedMb: [await first.redisUsedMb, await second.redisUsedMb],
        peakMb: Number(memory.used_memory_peak) / MB,
        cacheKeys: cache.keys,
        cacheMb: cache.mb,
      },
      parquetExportMs: result.parquetExportMs ?? Number.NaN,
      finishWallMs: result.finishWallMs,
      fileCacheIndexMb: fileIndex.heapMb,
      accepted: result.totals.accepted,
      failed: result.totals.failed,
      loadAverage: currentLoad(),
    };
  } finally {
    redis.disconnect();
    await Promise.all(workers.map((worker) => worker.stop()));
    await redisServer.stop();
    await simulator.close();
  }
}

/** Counts the response cache's keys and frees them: the drop in `used_memory` is the cache's share. */
async function measureRedisCache(redis: Redis, usedMb: number): Promise<{ keys: number; mb: number }> {
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', 'pf:cache:*', 'COUNT', 2000);
    cursor = next;
    if (batch.length) {
      keys += batch.length;
      await redis.unlink(...batch);
    }
  } while (cursor !== '0');
  // UNLINK frees in the background: wait until used_memory settles.
  let after = usedMb;
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const info = await redis.info('memory');
    const now = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / MB;
    if (Math.abs(now - after) < 0.05 && attempt > 2) break;
    after = now;
  }
  return { keys, mb: usedMb - after };
}

/** One run size of `measureScaleSizes`: each phase measured in its own process (bench/end-of-run-process.ts). */
export interface SizeMeasurement {
  conversations: number;
  /** Pairs planned (a third rejected, as in the synthetic run directory). */
  pairs: number;
  conversationsFileMb: number;
  candidatesFileMb: number;
  phases: Record<EndOfRunPhase, PhaseReading>;
  loadAverage: number;
}

export interface RedisCacheSizeMeasurement {
  committedPairs: number;
  inFlightPairs: number;
  repliesPerPair: number;
  /** Cache entries and Redis `used_memory` once `committedPairs` are committed (replies of the pairs in flight remain). */
  cacheKeys: number;
  usedMb: number;
  /** The same with the replies of committed pairs kept (no `dropCommittedPairReplies`): the behaviour before (NaN when not measured). */
  cacheKeysKept: number;
  usedMbKept: number;
}

const END_OF_RUN_PHASES: EndOfRunPhase[] = ['resume', 'parquet', 'finish', 'end-of-run', 'coordinator', 'planning'];

/**
 * Size: the parts of a run whose cost could grow with its size, measured directly on synthetic
 * run directories (tests/fixtures/write-large-run-directory.ts: real schemas, ~2.1 KB rows, two
 * ~2.5 KB candidates per pair, a third of the pairs rejected) of each size in `conversations`:
 * resume read-back (`RunState.open`), the Parquet export, the dataset card + report, the whole
 * end of a run, the coordinator taking every planned pair through as a job, and planning as many
 * pairs afresh; each in a fresh
 * process, peak RSS over RSS at its start.
 */
export async function measureScaleSizes(
  conversations: readonly number[],
  options: { workDir: string; log: (line: string) => void },
): Promise<SizeMeasurement[]> {
  const results: SizeMeasurement[] = [];
  for (const size of conversations) {
    const dir = join(options.workDir, `size-${size}`);
    const pairs = Math.round(size * 1.5);
    options.log(`scale sizes: writing a run directory of ${size} conversations (${pairs} pairs)`);
    writeLargeRunDirectory(dir, { pairs });
    // The coordinator phase runs a fresh run of the same plan: a directory with only plan.jsonl.
    const freshDir = join(options.workDir, `fresh-${size}`);
    mkdirSync(freshDir, { recursive: true });
    copyFileSync(join(dir, 'plan.jsonl'), join(freshDir, 'plan.jsonl'));
    const phases = {} as Record<EndOfRunPhase, PhaseReading>;
    for (const phase of END_OF_RUN_PHASES) {
      if (phase === 'planning') {
        const planningDir = join(options.workDir, `planning-${size}`);
        mkdirSync(planningDir, { recursive: true });
        phases[phase] = await runEndOfRunPhase(planningDir, phase, pairs);
        rmSync(planningDir, { recursive: true, force: true });
      } else phases[phase] = await runEndOfRunPhase(phase === 'coordinator' ? freshDir : dir, phase);
      options.log(
        `  ${phase}: ${phases[phase].cpuMs.toFixed(0)} ms CPU, ${phases[phase].ms.toFixed(0)} ms wall, +${phases[phase].peakGrowthMb.toFixed(0)} MB peak (load ${currentLoad().toFixed(1)})`,
      );
    }
    results.push({
      conversations: size,
      pairs,
      conversationsFileMb: statSync(join(dir, 'conversations.jsonl')).size / MB,
      candidatesFileMb: statSync(join(dir, 'candidates.jsonl')).size / MB,
      phases,
      loadAverage: currentLoad(),
    });
    rmSync(dir, { recursive: true, force: true });
    rmSync(freshDir, { recursive: true, force: true });
  }
  return results;
}

/** Resume read-back of one run size: with the checkpoint a run leaves, and without one. */
export interface ResumeReadBackMeasurement {
  conversations: number;
  pairs: number;
  conversationsFileMb: number;
  outcomesFileMb: number;
  candidatesFileMb: number;
  /** Pairs committed after the last checkpoint (read in full), the last one's outcome line lost to a crash. */
  pairsPastCheckpoint: number;
  /** `RunState.open` as a resume after a crash does it: keys of the outcome lines, the rest past the checkpoint. */
  withCheckpoint: PhaseReading;
  /** The same directory (clean by then) with its checkpoint deleted: every line of every file parsed (runs from before checkpoints). */
  withoutCheckpoint: PhaseReading;
  loadAverage: number;
}

/**
 * Resume read-back (`RunState.open`, each in a fresh process) of a synthetic run directory of
 * `conversations` rows (1.5x as many pairs), as a crash leaves it: a checkpoint
 * `pairsPastCheckpoint` pairs before the end, the last row without its outcome line, a torn
 * candidate line. candidates.jsonl (~7 KB per conversation) is written only when `candidates`
 * is set (a 1M-row run's would be ~7 GB); past the checkpoint it is read either way.
 */
export async function measureResumeReadBack(
  conversations: number,
  options: { workDir: string; log: (line: string) => void; candidates?: boolean; pairsPastCheckpoint?: number },
): Promise<ResumeReadBackMeasurement> {
  const dir = join(options.workDir, `resume-${conversations}`);
  const pairs = Math.round(conversations * 1.5);
  const pairsPastCheckpoint = options.pairsPastCheckpoint ?? 1000;
  options.log(`resume read-back: writing ${conversations} rows (${pairs} pairs)`);
  writeLargeRunDirectory(dir, {
    pairs,
    candidates: options.candidates ?? false,
    crashed: true,
    checkpointPairsBehind: pairsPastCheckpoint,
  });
  const fileMb = (name: string) => statSync(join(dir, name)).size / MB;
  const sizes = {
    conversationsFileMb: fileMb('conversations.jsonl'),
    outcomesFileMb: fileMb('outcomes.jsonl'),
    candidatesFileMb: fileMb('candidates.jsonl'),
  };
  const withCheckpoint = await runEndOfRunPhase(dir, 'resume');
  rmSync(join(dir, 'resume-checkpoint.json'));
  const withoutCheckpoint = await runEndOfRunPhase(dir, 'resume');
  rmSync(dir, { recursive: true, force: true });
  return {
    conversations,
    pairs,
    ...sizes,
    pairsPastCheckpoint,
    withCheckpoint,
    withoutCheckpoint,
    loadAverage: currentLoad(),
  };
}

function runEndOfRunPhase(dir: string, phase: EndOfRunPhase, count?: number): Promise<PhaseReading> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        fileURLToPath(new URL('./end-of-run-process.ts', import.meta.url)),
        dir,
        phase,
        ...(count === undefined ? [] : [String(count)]),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`end-of-run phase ${phase} exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').at(-1)!) as PhaseReading);
    });
  });
}

/**
 * The Redis response cache after `committedPairs` pairs, on a spawned redis-server: pairs run
 * `inFlightPairs` at a time; each stores `repliesPerPair` replies through
 * `RedisResponseCache.forPair` (3 in 16 of ~1.5 KB, generator-like, the rest ~300 B, critic-like)
 * and is committed (`dropCommittedPairReplies`) in the order it started. Run twice: with the drop,
 * and keeping every reply (as before).
 */
export async function measureRedisCacheSize(
  committedPairs: number,
  options: { inFlightPairs?: number; repliesPerPair?: number; compareWithKept?: boolean } = {},
): Promise<RedisCacheSizeMeasurement> {
  const inFlightPairs = options.inFlightPairs ?? 512;
  const repliesPerPair = options.repliesPerPair ?? 16;
  const reading = async (drop: boolean) => {
    const server = await startRedisServer();
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      const cache = new RedisResponseCache(redis, { prefix: 'pf' });
      const generatorText = 'User 1: '.padEnd(1500, 'generated conversation text ');
      const criticText = '{"passed":true,"confidence":0.9,"rationale":"'.padEnd(290, 'fine ') + '"}';
      // Committed in batches, as the coordinator commits the outcomes one stream read brings.
      let nextToCommit = 0;
      const commitUpTo = async (end: number) => {
        const scopes: string[] = [];
        for (; nextToCommit < end; nextToCommit++) scopes.push(`job-${nextToCommit}`);
        if (drop) await dropCommittedPairReplies(redis, 'pf', scopes);
      };
      for (let pair = 0; pair < committedPairs + inFlightPairs; pair++) {
        const scoped = cache.forPair(`job-${pair}`);
        for (let reply = 0; reply < repliesPerPair; reply++) {
          const text = reply % 16 < 3 ? generatorText : criticText;
          await scoped.set(
            `${pair}-${reply}`,
            JSON.stringify({ text: `${text}${pair}`, model: 'sim', promptTokens: 900, completionTokens: 300 }),
          );
        }
        if (pair % 256 === 255) {
          await RedisCommandBatch.for(redis).flushWith();
          await commitUpTo(pair + 1 - inFlightPairs);
        }
      }
      await RedisCommandBatch.for(redis).flushWith();
      let keys = 0;
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', 'pf:cache:*', 'COUNT', 5000);
        cursor = next;
        keys += batch.length;
      } while (cursor !== '0');
      const memory = await server.info('memory');
      return { keys, usedMb: Number(memory.used_memory) / MB };
    } finally {
      redis.disconnect();
      await server.stop();
    }
  };
  const dropped = await reading(true);
  const kept = options.compareWithKept === false ? { keys: Number.NaN, usedMb: Number.NaN } : await reading(false);
  return {
    committedPairs,
    inFlightPairs,
    repliesPerPair,
    cacheKeys: dropped.keys,
    usedMb: dropped.usedMb,
    cacheKeysKept: kept.keys,
    usedMbKept: kept.usedMb,
  };
}
