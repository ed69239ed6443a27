import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunKeys } from './bullmq-keys.ts';

/** What Redis holds of one added job; raw pipeline replies (undefined when the pipeline returned nothing). */
export interface QueuedPairJobState {
  id: string;
  /** `EXISTS` of the job hash: 0 when the job is gone from Redis. */
  exists: unknown;
  /** Score in the queue's failed set: null unless the job failed for good. */
  failedScore: unknown;
  /** The job's `failedReason` field, or null. */
  failedReason: unknown;
}

export interface QueuedPairJobsInspection {
  /** The run context key is gone (e.g. Redis restarted without persistence). */
  contextMissing: boolean;
  /** The few-shot examples hash is gone. */
  examplesMissing: boolean;
  /** One state per id, in the order given. */
  jobs: QueuedPairJobState[];
}

/** Looks up, in one pipeline, whether the run's keys and each job in `jobIds` are still in Redis and which failed. */
export async function inspectQueuedPairJobs(
  redis: Redis,
  queue: Queue,
  keys: RunKeys,
  jobIds: readonly string[],
): Promise<QueuedPairJobsInspection> {
  const pipeline = redis.pipeline();
  pipeline.exists(keys.context);
  pipeline.exists(keys.examples);
  for (const id of jobIds) {
    pipeline.exists(queue.toKey(id));
    pipeline.zscore(queue.keys.failed, id);
    pipeline.hget(queue.toKey(id), 'failedReason');
  }
  const results = (await pipeline.exec()) ?? [];
  return {
    contextMissing: results[0]?.[1] === 0,
    examplesMissing: results[1]?.[1] === 0,
    jobs: jobIds.map((id, index) => {
      const [exists, failedScore, failedReason] = results.slice(2 + index * 3, 5 + index * 3).map(([, value]) => value);
      return { id, exists, failedScore, failedReason };
    }),
  };
}
