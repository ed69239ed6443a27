import type { PoolRecord } from '../schemas/conversation.ts';

/**
 * Adds an iteration's winners to the few-shot pool and caps it.
 *
 * Capping keeps "the best and the newest": half the slots (rounded up) go to the highest
 * aggregate scores, the rest to the newest records (highest iteration, then score); ids are unique.
 * The result is ordered best-first so a pool file reads as a ranking. Pure.
 */
export function updatePool(pool: readonly PoolRecord[], winners: readonly PoolRecord[], cap: number): PoolRecord[] {
  const byId = new Map<string, PoolRecord>();
  for (const record of [...pool, ...winners]) byId.set(record.id, record);
  const all = [...byId.values()];
  const byScore = (a: PoolRecord, b: PoolRecord) => b.score - a.score || a.id.localeCompare(b.id);
  if (all.length <= cap) return all.sort(byScore);

  const bestSlots = Math.ceil(cap / 2);
  const best = all.slice().sort(byScore).slice(0, bestSlots);
  const kept = new Set(best.map((record) => record.id));
  const newest = all
    .filter((record) => !kept.has(record.id))
    .sort((a, b) => b.iteration - a.iteration || byScore(a, b))
    .slice(0, cap - bestSlots);
  return [...best, ...newest].sort(byScore);
}
