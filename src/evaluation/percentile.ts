/**
 * The `fraction`-quantile (0..1) of ascending-sorted numbers by linear interpolation between
 * closest ranks (Hyndman–Fan type 7, the default of numpy and R): with h = (n − 1) · fraction,
 * the result is x[⌊h⌋] + (h − ⌊h⌋) · (x[⌊h⌋ + 1] − x[⌊h⌋]) (0-based). The median is
 * `percentile(sorted, 0.5)`, which equals the usual median (mean of the two middle values for
 * even n). Returns null for an empty list.
 */
export function percentile(sortedValues: readonly number[], fraction: number): number | null {
  if (sortedValues.length === 0) return null;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`Expected \`fraction\` in [0, 1], got ${fraction}.`);
  const position = (sortedValues.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sortedValues.length - 1);
  return sortedValues[lower] + (position - lower) * (sortedValues[upper] - sortedValues[lower]);
}
