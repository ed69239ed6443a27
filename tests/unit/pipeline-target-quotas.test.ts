import { describe, expect, it } from 'vitest';
import { pairsForQuota, targetQuotas } from '../../src/pipeline/target-quotas.ts';

describe('targetQuotas', () => {
  it('splits the target over the iterations as evenly as possible, earlier iterations first', () => {
    expect(targetQuotas(10, 3)).toEqual([4, 3, 3]);
    expect(targetQuotas(11, 3)).toEqual([4, 4, 3]);
    expect(targetQuotas(9, 3)).toEqual([3, 3, 3]);
  });

  it('always adds up to the target, even when it is smaller than the number of iterations', () => {
    expect(targetQuotas(2, 4)).toEqual([1, 1, 0, 0]);
    for (const [target, iterations] of [
      [1, 1],
      [7, 2],
      [100, 7],
      [3, 5],
    ]) {
      const quotas = targetQuotas(target, iterations);
      expect(quotas).toHaveLength(iterations);
      expect(quotas.reduce((sum, quota) => sum + quota, 0)).toBe(target);
    }
  });
});

describe('pairsForQuota', () => {
  it('plans missing / acceptance rate pairs, rounded up', () => {
    expect(pairsForQuota(10, 0.5)).toBe(20);
    expect(pairsForQuota(3, 0.4)).toBe(8); // 7.5 -> 8
    expect(pairsForQuota(4, 1)).toBe(4);
  });

  it('floors the acceptance rate at 5%, so a bad start cannot plan thousands of pairs', () => {
    expect(pairsForQuota(10, 0)).toBe(200);
    expect(pairsForQuota(10, 0.01)).toBe(200);
  });

  it('plans at least one pair and never reads a rate above 1', () => {
    expect(pairsForQuota(0, 0.5)).toBe(1);
    expect(pairsForQuota(5, 3)).toBe(5);
  });
});
