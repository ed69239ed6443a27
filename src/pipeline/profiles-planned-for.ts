import type { RunConfig } from '../schemas/run-config.ts';
import { synthesizePoolSize } from '../personas/prepare-pairs.ts';

/**
 * Pairs planned per `planPairs` call in simple and synthesize mode: planning holds one chunk's
 * profiles and pairs at once, not the whole run's, and synthesize compares one chunk's profile
 * pool pair by pair (a pool of 4 profiles per pair: 8,000 per chunk), so its time grows linearly
 * with the run instead of with its square. Measured (simple, no contradiction checks): 90,000 pairs planned in one
 * call peaked at +205 MB of RSS; in chunks of 10,000, 30,000 → 300,000 pairs peaked at +58 →
 * +126 MB; in chunks of 2,000 (a chunk's objects die young), +61 → +79 MB.
 */
export const PLANNING_CHUNK_PAIRS = 2_000;

/** Profiles simple mode builds for `pairs` pairs: two per pair, so each profile talks about once. */
export function simpleProfileCount(pairs: number): number {
  return Math.max(2, pairs * 2);
}

/**
 * Profiles that planning `pairs` pairs builds, and asks contradiction checks for, chunk by chunk:
 * two per pair in simple mode, the pool in synthesize mode (`personas.profile_pool` per chunk,
 * else max(20, 4 per pair)), none in seed-pairs mode (the seed dataset's pairs are used as they are).
 */
export function profilesPlannedFor(config: Pick<RunConfig, 'personas'>, pairs: number): number {
  if (config.personas.mode === 'seed-pairs') return 0;
  let profiles = 0;
  for (let start = 0; start < pairs; start += PLANNING_CHUNK_PAIRS) {
    const chunk = Math.min(PLANNING_CHUNK_PAIRS, pairs - start);
    profiles +=
      config.personas.mode === 'simple'
        ? simpleProfileCount(chunk)
        : synthesizePoolSize(chunk, config.personas.profile_pool);
  }
  return profiles;
}
