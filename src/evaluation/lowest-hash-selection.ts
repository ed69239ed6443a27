/**
 * Keeps the `size` items with the lowest hash (ties by arrival) out of a stream, in memory
 * bounded by 2 × `size`: a deterministic sample that does not depend on the stream's order.
 */
export class LowestHashSelection<T> {
  private held: Array<{ hash: string; item: T }> = [];

  constructor(readonly size: number) {}

  offer(hash: string, item: T): void {
    if (this.size <= 0) return;
    this.held.push({ hash, item });
    if (this.held.length >= 2 * this.size) this.trim();
  }

  /** The kept items, lowest hash first. */
  items(): T[] {
    this.trim();
    return this.held.map((entry) => entry.item);
  }

  private trim(): void {
    // A stable sort keeps arrival order among equal hashes.
    this.held.sort((left, right) => (left.hash < right.hash ? -1 : left.hash > right.hash ? 1 : 0));
    this.held.length = Math.min(this.held.length, this.size);
  }
}
