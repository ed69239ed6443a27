import type { Pair } from '../schemas/pair.ts';
import type { Profile } from '../schemas/profile.ts';
import { sampleWithoutReplacement, type Random } from '../util/create-random.ts';

/**
 * Pairs profiles at random: `count` pairs (`pair-0001`, …) of two different profiles each.
 * Profiles are drawn in rounds (a fresh shuffle of all profiles per round), so when `count`
 * exceeds `profiles.length / 2` every profile is reused evenly: use counts differ by at most one.
 * The same seed gives the same pairs. Who is `User 1` is random too.
 * @throws RangeError when `count` is not a non-negative integer or fewer than two profiles are given.
 */
export function pairRandomly(profiles: readonly Profile[], count: number, random: Random): Pair[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Expected \`count\` to be a non-negative integer, got ${count}.`);
  }
  if (count === 0) return [];
  if (profiles.length < 2) {
    throw new RangeError(`Expected at least 2 profiles to pair, got ${profiles.length}.`);
  }

  const allIndices = profiles.map((_, index) => index);
  let round: number[] = [];
  const draw = (avoid?: number): number => {
    if (round.length === 0) round = sampleWithoutReplacement(random, allIndices, allIndices.length);
    // Only possible right after a new round starts: take its second entry instead (rounds hold ≥ 2).
    const position = round[0] === avoid ? 1 : 0;
    return round.splice(position, 1)[0];
  };

  const pairs: Pair[] = [];
  for (let index = 0; index < count; index++) {
    const first = draw();
    const second = draw(first);
    pairs.push({
      id: `pair-${String(index + 1).padStart(4, '0')}`,
      user1: profiles[first],
      user2: profiles[second],
    });
  }
  return pairs;
}
