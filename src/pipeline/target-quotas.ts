/** Splits `target` accepted conversations over the iterations as evenly as possible, earlier first. */
export function targetQuotas(target: number, iterations: number): number[] {
  const base = Math.floor(target / iterations);
  return Array.from({ length: iterations }, (_, index) => base + (index < target % iterations ? 1 : 0)).map((quota) =>
    Math.max(quota, 0),
  );
}

/**
 * Pairs to start for `missing` accepted conversations at the observed acceptance rate (floored
 * at 5% so a bad start cannot plan thousands of pairs), rounded up.
 */
export function pairsForQuota(missing: number, acceptanceRate: number): number {
  return Math.max(1, Math.ceil(missing / Math.max(0.05, Math.min(1, acceptanceRate))));
}
