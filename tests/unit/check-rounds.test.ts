import { describe, expect, it } from 'vitest';
import { CheckRounds } from '../../src/personas/check-rounds.ts';
import { buildSimpleProfiles } from '../../src/personas/build-simple-profiles.ts';
import { defaultSeedPaths, loadSeedAttributes } from '../../src/personas/load-seed-attributes.ts';
import { createRandom, randomInt } from '../../src/util/create-random.ts';

const attributes = await loadSeedAttributes(defaultSeedPaths().attributes);
const baseInput = { attributes, count: 12, attributesPerProfile: 5, nearDuplicateThreshold: 0.6 };

/** A deterministic "LLM" check: a fixed share of candidates contradict, answered after a random delay. */
function delayedCheck(delaySeed: number, asked: string[][]) {
  const random = createRandom(delaySeed);
  return async (profile: string[], candidate: string): Promise<boolean> => {
    asked.at(-1)!.push(`${profile.join('|')} ? ${candidate}`);
    await new Promise((resolve) => setTimeout(resolve, randomInt(random, 15)));
    return candidate.length % 4 === 0;
  };
}

describe('CheckRounds', () => {
  it('releases a round once every live participant asked, in participant order', async () => {
    const sent: string[] = [];
    const rounds = new CheckRounds(async (_profile, candidate) => {
      sent.push(candidate);
      return candidate === 'b';
    }, 3);
    const answers = [rounds.ask(2, ['x'], 'c'), rounds.ask(0, ['x'], 'a')];
    expect(sent).toEqual([]);
    answers.push(rounds.ask(1, ['x'], 'b'));
    expect(sent).toEqual(['a', 'b', 'c']);
    expect(await Promise.all(answers)).toEqual([false, false, true]);
    // A participant that leaves no longer holds the next round back.
    const next = rounds.ask(0, ['x'], 'd');
    rounds.leave(1);
    expect(sent).toHaveLength(3);
    rounds.leave(2);
    expect(await next).toBe(false);
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
    expect(rounds.rounds).toBe(2);
  });

  it('rejects only the check whose call failed', async () => {
    const rounds = new CheckRounds(async (_profile, candidate) => {
      if (candidate === 'bad') throw new Error('endpoint down');
      return false;
    }, 2);
    const results = await Promise.allSettled([rounds.ask(0, [], 'bad'), rounds.ask(1, [], 'good')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
  });
});

describe('buildSimpleProfiles in rounds (--batch)', () => {
  it('builds the same profiles as profile-by-profile building', async () => {
    const ordinary = await buildSimpleProfiles(baseInput, {
      random: createRandom(5),
      checkContradiction: delayedCheck(1, [[]]),
    });
    const inRounds = await buildSimpleProfiles(
      { ...baseInput, inRounds: true },
      { random: createRandom(5), checkContradiction: delayedCheck(2, [[]]) },
    );
    expect(inRounds).toEqual(ordinary);
    expect(inRounds.rejections.contradiction).toBeGreaterThan(0);
  });

  it('builds the same profiles in groups of `concurrency` (a budget-capped batch run), each group in rounds', async () => {
    const ordinary = await buildSimpleProfiles(baseInput, {
      random: createRandom(5),
      checkContradiction: delayedCheck(1, [[]]),
    });
    const asked: string[][] = [[]];
    const grouped = await buildSimpleProfiles(
      { ...baseInput, inRounds: true, concurrency: 5 },
      { random: createRandom(5), checkContradiction: delayedCheck(3, asked) },
    );
    expect(grouped).toEqual(ordinary);
    // Profiles of the first group (p-0001 … p-0005) ask all their checks before the second group starts.
    const firstOfSecondGroup = asked[0].findIndex((check) =>
      check.startsWith(`${ordinary.profiles[5].attributes[0]} ?`),
    );
    const lastOfFirstGroup = Math.max(
      ...ordinary.profiles
        .slice(0, 5)
        .map((profile) => asked[0].findLastIndex((check) => check.startsWith(profile.attributes[0]))),
    );
    expect(firstOfSecondGroup).toBeGreaterThan(lastOfFirstGroup);
  });

  it('asks the same checks in the same order whatever the reply timing, so a restart sends identical requests', async () => {
    const runWith = async (delaySeed: number) => {
      const asked: string[][] = [[]];
      const check = delayedCheck(delaySeed, asked);
      // A new round starts when the first check after a pause arrives: record the checks per turn.
      let turn = 0;
      const byTurn = new Map<number, string[]>();
      const recording = (profile: string[], candidate: string) => {
        const current = turn;
        if (!byTurn.has(current)) {
          byTurn.set(current, []);
          setImmediate(() => void turn++);
        }
        byTurn.get(current)!.push(candidate);
        return check(profile, candidate);
      };
      await buildSimpleProfiles(
        { ...baseInput, inRounds: true },
        { random: createRandom(9), checkContradiction: recording },
      );
      return { asked: asked[0], turns: [...byTurn.values()] };
    };
    const first = await runWith(11);
    const second = await runWith(12);
    expect(second.asked).toEqual(first.asked);
    // Each round's checks were handed on in one turn of the event loop (one batch), the first
    // round holding one check per profile.
    expect(second.turns).toEqual(first.turns);
    expect(first.turns[0]).toHaveLength(baseInput.count);
    expect(first.turns.length).toBeLessThan(first.asked.length);
  });
});
