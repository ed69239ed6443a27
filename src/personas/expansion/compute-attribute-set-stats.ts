import type { AttributeSetStats } from '../../schemas/persona-expansion.ts';

/**
 * The paper's expansion statistics (Table 1) for a set of attributes with their clusters and
 * embedding vectors: attribute count, cluster count, mean cosine distance between cluster
 * centroids (over all pairs of clusters) and mean length in whitespace tokens. Attributes without
 * a cluster count as attributes but not as clusters.
 */
export function computeAttributeSetStats(
  attributes: readonly { text: string; cluster?: string }[],
  vectors: readonly ArrayLike<number>[],
): AttributeSetStats {
  const dimensions = vectors[0]?.length ?? 0;
  const centroids = new Map<string, Float64Array>();
  attributes.forEach((attribute, index) => {
    if (attribute.cluster === undefined) return;
    let centroid = centroids.get(attribute.cluster);
    if (!centroid) centroids.set(attribute.cluster, (centroid = new Float64Array(dimensions)));
    const vector = vectors[index];
    let norm = 0;
    for (let k = 0; k < dimensions; k++) norm += vector[k] * vector[k];
    const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    for (let k = 0; k < dimensions; k++) centroid[k] += vector[k] * scale;
  });
  const list = [...centroids.values()];
  let distanceSum = 0;
  let pairs = 0;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      distanceSum += 1 - cosine(list[i], list[j]);
      pairs++;
    }
  }
  const tokens = attributes.reduce(
    (sum, attribute) => sum + attribute.text.trim().split(/\s+/).filter(Boolean).length,
    0,
  );
  return {
    attributes: attributes.length,
    clusters: centroids.size,
    mean_inter_cluster_distance: pairs === 0 ? 0 : round(distanceSum / pairs),
    mean_length_tokens: attributes.length === 0 ? 0 : round(tokens / attributes.length),
  };
}

function cosine(left: Float64Array, right: Float64Array): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let k = 0; k < left.length; k++) {
    dot += left[k] * right[k];
    leftNorm += left[k] * left[k];
    rightNorm += right[k] * right[k];
  }
  return leftNorm === 0 || rightNorm === 0 ? 0 : dot / Math.sqrt(leftNorm * rightNorm);
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
