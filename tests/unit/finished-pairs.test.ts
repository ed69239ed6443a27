import { describe, expect, it } from 'vitest';
import { FinishedPairs } from '../../src/pipeline/finished-pairs.ts';
import { createRandom, randomInt } from '../../src/util/create-random.ts';

describe('FinishedPairs', () => {
  it('holds exactly the pairs added, per iteration, through growth, whatever the ids', () => {
    const random = createRandom(5);
    const done = new FinishedPairs();
    const added = new Set<string>();
    const alphabet = ['a', 'b', 'é', '漢', '-', '0', '1', '😀'];
    const idOf = () =>
      Array.from({ length: 1 + randomInt(random, 12) }, () => alphabet[randomInt(random, alphabet.length)]).join('');
    for (let index = 0; index < 30_000; index++) {
      const iteration = 1 + randomInt(random, 3);
      const pairId = index % 7 === 0 ? `pair-${index}` : idOf();
      done.add(iteration, pairId);
      added.add(`${iteration}\t${pairId}`);
    }
    expect(done.size).toBe(added.size);
    for (const key of added) {
      const [iteration, pairId] = key.split('\t');
      expect(done.has(Number(iteration), pairId)).toBe(true);
    }
    let absent = 0;
    for (let index = 0; index < 30_000; index++) {
      const iteration = 1 + randomInt(random, 4);
      const pairId = idOf();
      expect(done.has(iteration, pairId)).toBe(added.has(`${iteration}\t${pairId}`));
      if (!added.has(`${iteration}\t${pairId}`)) absent++;
    }
    expect(absent).toBeGreaterThan(1000);
    // An id that is a prefix of another, the empty id, and the same id in another iteration are other pairs.
    done.add(1, 'pair-7');
    expect(done.has(1, 'pair-')).toBe(added.has('1\tpair-'));
    expect(done.has(9, 'pair-7')).toBe(false);
    expect(done.has(1, '')).toBe(false);
  });

  it('adds a pair from the bytes of a line as it would from the string', () => {
    const done = new FinishedPairs();
    const line = Buffer.from('{"pair_id":"née-1"}');
    done.addBytes(2, line, 12, 12 + Buffer.byteLength('née-1'));
    expect(done.has(2, 'née-1')).toBe(true);
    done.add(2, 'née-1');
    expect(done.size).toBe(1);
  });
});
