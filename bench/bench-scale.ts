/**
 * Scale: one run of N conversations on BullMQ workers against a low-latency, many-slot simulated
 * endpoint. Reads the coordinator's and the workers' RSS when the run reaches the two checkpoints
 * (e.g. 2,000 and 20,000 accepted), their peak RSS, Redis' peak memory and the response cache's
 * share of it, and times a Parquet export of the rows. The in-process file cache's index is
 * measured separately for the same number of cached replies.
 */
import { Redis } from 'ioredis';
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
    const atCheckpoint: Array<{ workers: ProcReading[]; workersAfterGc: Promise<ProcReading[]>; redisUsedMb: Promise<number> }> = [];
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
