import { condensedIndex, cosineDistanceMatrix } from './cosine-distance-matrix.ts';

export interface AgglomerativeClustering {
  /** Cluster number per input vector, 0..clusterCount-1, numbered by each cluster's first member. */
  labels: number[];
  clusterCount: number;
  /** Every merge of the full dendrogram: the two clusters' smallest members and the linkage distance. */
  merges: { left: number; right: number; distance: number }[];
}

/**
 * Agglomerative clustering with average linkage on cosine distance, cut where the linkage distance
 * reaches `threshold`: two clusters are merged while the mean pairwise cosine distance between
 * their members is below it. Uses the nearest-neighbour-chain algorithm (O(n²) time and memory;
 * exact for average linkage). Deterministic: ties go to the lower index.
 *
 * @param threshold cosine distance in (0, 2]; 0.8 means "mean cosine similarity above 0.2".
 */
export function clusterAgglomerative(
  vectors: readonly (readonly number[])[],
  threshold: number,
): AgglomerativeClustering {
  if (!(threshold > 0 && threshold <= 2)) {
    throw new RangeError(`Expected \`threshold\` to be a cosine distance in (0, 2], got ${threshold}.`);
  }
  const size = vectors.length;
  if (size === 0) return { labels: [], clusterCount: 0, merges: [] };
  const { values: distances } = cosineDistanceMatrix(vectors);
  const distance = (i: number, j: number) => distances[condensedIndex(size, i, j)];
  const clusterSize = new Array<number>(size).fill(1);
  const active = new Array<boolean>(size).fill(true);
  let activeCount = size;
  const merges: AgglomerativeClustering['merges'] = [];
  const chain: number[] = [];

  while (activeCount > 1) {
    if (chain.length === 0) chain.push(active.indexOf(true));
    const current = chain[chain.length - 1];
    const previous = chain.length > 1 ? chain[chain.length - 2] : -1;
    // The previous chain element wins ties: that guarantees the chain ends in a reciprocal pair.
    let nearest = previous;
    let nearestDistance = previous === -1 ? Infinity : distance(current, previous);
    for (let other = 0; other < size; other++) {
      if (!active[other] || other === current) continue;
      const candidate = distance(current, other);
      if (candidate < nearestDistance) {
        nearest = other;
        nearestDistance = candidate;
      }
    }
    if (nearest !== previous) {
      chain.push(nearest);
      continue;
    }
    chain.pop();
    chain.pop();
    // Keep the merged cluster under the lower index; Lance–Williams update for average linkage.
    const [kept, removed] = current < previous ? [current, previous] : [previous, current];
    const keptSize = clusterSize[kept];
    const removedSize = clusterSize[removed];
    for (let other = 0; other < size; other++) {
      if (!active[other] || other === kept || other === removed) continue;
      distances[condensedIndex(size, kept, other)] =
        (keptSize * distance(kept, other) + removedSize * distance(removed, other)) / (keptSize + removedSize);
    }
    clusterSize[kept] = keptSize + removedSize;
    active[removed] = false;
    activeCount--;
    merges.push({ left: kept, right: removed, distance: nearestDistance });
  }

  // Average linkage has no inversions, so applying every merge below the threshold gives the cut.
  const parent = Array.from({ length: size }, (_, index) => index);
  const find = (index: number): number => {
    while (parent[index] !== index) {
      parent[index] = parent[parent[index]];
      index = parent[index];
    }
    return index;
  };
  for (const merge of merges) {
    if (merge.distance >= threshold) continue;
    const [left, right] = [find(merge.left), find(merge.right)];
    if (left !== right) parent[Math.max(left, right)] = Math.min(left, right);
  }
  const numberOfRoot = new Map<number, number>();
  const labels = Array.from({ length: size }, (_, index) => {
    const root = find(index);
    if (!numberOfRoot.has(root)) numberOfRoot.set(root, numberOfRoot.size);
    return numberOfRoot.get(root)!;
  });
  return { labels, clusterCount: numberOfRoot.size, merges };
}
