import { describe, expect, it } from 'vitest';
import { aggregateVotes } from '../../src/critique/aggregate-votes.ts';
import type { PairwiseVerdict } from '../../src/schemas/critic.ts';

/** A verdict where both orders agree on `winner`; `null` means the orders disagreed (a tie). */
function verdict(critic: string, a: number, b: number, winner: number | null): PairwiseVerdict {
  const orderWinners: [number | null, number | null] = winner === null ? [a, b] : [winner, winner];
  return { critic, kind: 'pairwise', a, b, winner, orderWinners, rationale: '' };
}

const RANKERS = ['depth', 'coherency', 'consistency', 'diversity', 'likability'];

/** Every ranker votes for `winner` in the pair (a, b). */
function unanimous(a: number, b: number, winner: number | null): PairwiseVerdict[] {
  return RANKERS.map((critic) => verdict(critic, a, b, winner));
}

describe('aggregateVotes', () => {
  it('picks a clear Copeland winner and counts wins per critic', () => {
    const result = aggregateVotes({
      candidateIndexes: [0, 1, 2],
      verdicts: [...unanimous(0, 1, 1), ...unanimous(0, 2, 2), ...unanimous(1, 2, 1)],
      filterConfidence: { 0: 1, 1: 0.5, 2: 1 },
    });
    expect(result.copeland).toEqual({ 0: -2, 1: 2, 2: 0 });
    expect(result.winnerIndex).toBe(1);
    expect(result.criticWins[1]).toEqual({ depth: 2, coherency: 2, consistency: 2, diversity: 2, likability: 2 });
    expect(result.criticWins[0].depth).toBe(0);
    expect(result.pairWinners).toEqual({ '0-1': 1, '0-2': 2, '1-2': 1 });
  });

  it('takes the majority across experts for each pair', () => {
    const verdicts = [
      verdict('depth', 0, 1, 0),
      verdict('coherency', 0, 1, 0),
      verdict('consistency', 0, 1, 0),
      verdict('diversity', 0, 1, 1),
      verdict('likability', 0, 1, 1),
    ];
    const result = aggregateVotes({ candidateIndexes: [0, 1], verdicts, filterConfidence: { 0: 0.1, 1: 0.9 } });
    expect(result.pairWinners['0-1']).toBe(0);
    expect(result.copeland).toEqual({ 0: 1, 1: -1 });
    expect(result.winnerIndex).toBe(0);
  });

  it('makes order flips ties that do not vote', () => {
    // Two experts flip with the order (ties), two prefer 1, one prefers 0: 1 wins 2–1.
    const verdicts = [
      verdict('depth', 0, 1, null),
      verdict('coherency', 0, 1, null),
      verdict('consistency', 0, 1, 1),
      verdict('diversity', 0, 1, 1),
      verdict('likability', 0, 1, 0),
    ];
    const result = aggregateVotes({ candidateIndexes: [0, 1], verdicts, filterConfidence: {} });
    expect(result.winnerIndex).toBe(1);
    expect(result.criticWins[0]).toEqual({ depth: 0, coherency: 0, consistency: 0, diversity: 0, likability: 1 });
  });

  it('makes a pair with equal votes a tie', () => {
    const verdicts = [verdict('depth', 0, 1, 0), verdict('coherency', 0, 1, 1), verdict('diversity', 0, 1, null)];
    const result = aggregateVotes({ candidateIndexes: [0, 1], verdicts, filterConfidence: {} });
    expect(result.pairWinners['0-1']).toBeNull();
    expect(result.copeland).toEqual({ 0: 0, 1: 0 });
  });

  it('breaks a Copeland tie by higher mean filter confidence', () => {
    // A cycle: 0 beats 1, 1 beats 2, 2 beats 0 — every score is 0.
    const verdicts = [...unanimous(0, 1, 0), ...unanimous(1, 2, 1), ...unanimous(0, 2, 2)];
    const result = aggregateVotes({
      candidateIndexes: [0, 1, 2],
      verdicts,
      filterConfidence: { 0: 0.7, 1: 0.6, 2: 0.9 },
    });
    expect(result.copeland).toEqual({ 0: 0, 1: 0, 2: 0 });
    expect(result.winnerIndex).toBe(2);
  });

  it('then breaks the tie by the lower candidate index', () => {
    const verdicts = [...unanimous(1, 3, null)];
    const result = aggregateVotes({ candidateIndexes: [3, 1], verdicts, filterConfidence: { 1: 0.8, 3: 0.8 } });
    expect(result.winnerIndex).toBe(1);
  });

  it('ignores confidence when Copeland scores differ', () => {
    const result = aggregateVotes({
      candidateIndexes: [0, 1],
      verdicts: unanimous(0, 1, 1),
      filterConfidence: { 0: 1, 1: 0 },
    });
    expect(result.winnerIndex).toBe(1);
  });

  it('lets a single candidate win with score 0 and returns null for none', () => {
    expect(aggregateVotes({ candidateIndexes: [2], verdicts: [], filterConfidence: {} })).toMatchObject({
      copeland: { 2: 0 },
      winnerIndex: 2,
    });
    expect(aggregateVotes({ candidateIndexes: [], verdicts: [], filterConfidence: {} }).winnerIndex).toBeNull();
  });

  it('rejects verdicts about candidates that are not being ranked', () => {
    expect(() =>
      aggregateVotes({ candidateIndexes: [0, 1], verdicts: [verdict('depth', 0, 5, 5)], filterConfidence: {} }),
    ).toThrow(/not two ranked candidates/);
  });
});
