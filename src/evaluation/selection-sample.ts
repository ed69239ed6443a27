import { createRandom, type Random } from '../util/create-random.ts';

/**
 * A uniform random sample of `size` records out of a stream of known length `population`, taken in
 * stream order (selection sampling, Knuth's Algorithm S), seeded so the same stream gives the same
 * sample. Each record is decided as it passes and a record not taken is never built, so a sample
 * of a large file costs the sample, not the file: unlike a reservoir, nothing kept is later
 * replaced (replaced records were most of the report's garbage on large runs).
 * When `size` ≥ `population` every record is taken.
 */
export class SelectionSample {
  /** Records decided so far. */
  seen = 0;
  /** Records taken so far. */
  taken = 0;
  private readonly random: Random;

  constructor(
    readonly population: number,
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`Expected \`size\` to be a positive integer, got ${size}.`);
    if (!Number.isInteger(population) || population < 0)
      throw new RangeError(`Expected \`population\` to be a non-negative integer, got ${population}.`);
    this.random = createRandom(seed);
  }

  /** Decides the next record: true when the sample takes it. */
  take(): boolean {
    const remaining = this.population - this.seen;
    this.seen++;
    if (remaining <= 0) return false;
    const needed = Math.min(this.size, this.population) - this.taken;
    if (needed <= 0) return false;
    // Taken with probability needed / remaining: exactly `size` records, every subset equally likely.
    if (needed < remaining && this.random() * remaining >= needed) return false;
    this.taken++;
    return true;
  }

  /** True when some records are left out of the sample. */
  get sampled(): boolean {
    return this.population > this.size;
  }
}
