import { createRandom, type Random } from '../util/create-random.ts';

/**
 * A uniform random sample of at most `capacity` items from a stream of unknown length
 * (reservoir sampling, Vitter's algorithm R), seeded so the same stream gives the same sample.
 * Until `capacity` items have been offered the sample is every item, in order.
 */
export class ReservoirSample<T> {
  /** Items offered so far. */
  seen = 0;
  private readonly held: T[] = [];
  private readonly random: Random;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`Expected \`capacity\` to be a positive integer, got ${capacity}.`);
    this.random = createRandom(seed);
  }

  offer(item: T): void {
    this.seen++;
    if (this.held.length < this.capacity) {
      this.held.push(item);
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.held[slot] = item;
  }

  get items(): readonly T[] {
    return this.held;
  }

  /** True when some offered items are not in the sample. */
  get sampled(): boolean {
    return this.seen > this.held.length;
  }
}
