/** A seeded source of uniform numbers in [0, 1). Every stage takes one instead of `Math.random`. */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough for sampling; the same seed gives the same sequence. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream for a named sub-task (e.g. `pair-3/iteration-2`). */
export function deriveRandom(seed: number, label: string): Random {
  let hash = 2166136261 ^ seed;
  for (let index = 0; index < label.length; index++) {
    hash = Math.imul(hash ^ label.charCodeAt(index), 16777619);
  }
  return createRandom(hash >>> 0);
}

/** A uniform integer in [0, maxExclusive). */
export function randomInt(random: Random, maxExclusive: number): number {
  return Math.floor(random() * maxExclusive);
}

/** `count` distinct items drawn without replacement (Fisher–Yates prefix), in draw order. */
export function sampleWithoutReplacement<T>(random: Random, items: readonly T[], count: number): T[] {
  const copy = items.slice();
  const take = Math.min(count, copy.length);
  for (let index = 0; index < take; index++) {
    const pick = index + randomInt(random, copy.length - index);
    [copy[index], copy[pick]] = [copy[pick], copy[index]];
  }
  return copy.slice(0, take);
}
