import type { Redis } from 'ioredis';
import { RunContextSchema, type RunContext } from '../schemas/run-context.ts';

/** Stores a run's context for workers (JSON, refreshed TTL). The config must hold no secrets. */
export async function saveRunContext(
  redis: Redis,
  key: string,
  context: RunContext,
  ttlSeconds: number,
): Promise<void> {
  if (context.config.llm.api_key !== undefined)
    throw new Error('refusing to store a run context that holds an API key');
  await redis.set(key, JSON.stringify(context), 'EX', ttlSeconds);
}

/** Reads a run's context; undefined when Redis has none under `key`. */
export async function loadRunContext(redis: Redis, key: string): Promise<RunContext | undefined> {
  const text = await redis.get(key);
  return text === null ? undefined : RunContextSchema.parse(JSON.parse(text));
}
