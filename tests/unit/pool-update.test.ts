import { describe, expect, it } from 'vitest';
import { updatePool } from '../../src/pipeline/update-pool.ts';
import type { PoolRecord } from '../../src/schemas/conversation.ts';

const record = (id: string, iteration: number, score: number): PoolRecord => ({
  id,
  user1_persona: ['a'],
  user2_persona: ['b'],
  turns: [{ speaker: 'User 1', text: 'hi' }],
  source: iteration === 0 ? 'seed' : 'generated',
  iteration,
  score,
});

describe('updatePool', () => {
  it('adds winners, ranked by score, while under the cap', () => {
    const pool = updatePool([record('s1', 0, 0), record('s2', 0, 0)], [record('w1', 1, 2), record('w2', 1, 4)], 10);
    expect(pool.map((item) => item.id)).toEqual(['w2', 'w1', 's1', 's2']);
  });

  it('caps the pool keeping the best half and then the newest', () => {
    const old = [record('old-best', 1, 9), record('old-mid', 1, 1), record('old-low', 1, 0)];
    const winners = [record('new-a', 2, 0.5), record('new-b', 2, 0.2)];
    const pool = updatePool(old, winners, 3);
    // 2 best slots: old-best (9), old-mid (1); 1 newest slot: new-a (iteration 2, better score).
    expect(pool.map((item) => item.id)).toEqual(['old-best', 'old-mid', 'new-a']);
  });

  it('never duplicates an id', () => {
    const pool = updatePool([record('x', 1, 1)], [record('x', 1, 1)], 5);
    expect(pool).toHaveLength(1);
  });
});
