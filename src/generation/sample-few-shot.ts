import type { PoolRecord } from '../schemas/conversation.ts';
import { sampleWithoutReplacement, type Random } from '../util/create-random.ts';

/** Draws `count` distinct examples from the pool at random (paper: 5). */
export function sampleFewShot(pool: readonly PoolRecord[], count: number, random: Random): PoolRecord[] {
  return sampleWithoutReplacement(random, pool, count);
}
