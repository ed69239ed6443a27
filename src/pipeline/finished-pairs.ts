/**
 * The finished (iteration, pair id) pairs of a run: one set of pair ids per iteration, so a
 * resume of a large run holds the ids it read, not a joined key string per pair.
 */
export class FinishedPairs {
  private readonly byIteration = new Map<number, Set<string>>();
  /** Pairs held. */
  size = 0;

  add(iteration: number, pairId: string): void {
    let pairIds = this.byIteration.get(iteration);
    if (!pairIds) this.byIteration.set(iteration, (pairIds = new Set()));
    if (pairIds.has(pairId)) return;
    pairIds.add(pairId);
    this.size++;
  }

  has(iteration: number, pairId: string): boolean {
    return this.byIteration.get(iteration)?.has(pairId) ?? false;
  }
}
