import { describe, expect, it } from 'vitest';
import { clusterAgglomerative } from '../../src/personas/expansion/cluster-agglomerative.ts';
import { computeAttributeSetStats } from '../../src/personas/expansion/compute-attribute-set-stats.ts';
import { condensedIndex, cosineDistanceMatrix } from '../../src/personas/expansion/cosine-distance-matrix.ts';
import { LexicalEmbedder } from '../../src/llm/embedders/lexical-embedder.ts';
import { createRandom } from '../../src/util/create-random.ts';

/** Textbook average linkage: merge the closest pair of clusters until the closest is >= threshold. */
function naiveAverageLinkage(vectors: number[][], threshold: number): string[] {
  const { values, size } = cosineDistanceMatrix(vectors);
  const distance = (i: number, j: number) => values[condensedIndex(size, i, j)];
  const clusters = vectors.map((_, index) => [index]);
  for (;;) {
    let best = Infinity;
    let pair: [number, number] = [-1, -1];
    for (let a = 0; a < clusters.length; a++) {
      for (let b = a + 1; b < clusters.length; b++) {
        let sum = 0;
        for (const i of clusters[a]) for (const j of clusters[b]) sum += distance(i, j);
        const mean = sum / (clusters[a].length * clusters[b].length);
        if (mean < best) [best, pair] = [mean, [a, b]];
      }
    }
    if (clusters.length < 2 || best >= threshold) break;
    clusters[pair[0]] = [...clusters[pair[0]], ...clusters[pair[1]]].sort((x, y) => x - y);
    clusters.splice(pair[1], 1);
  }
  return clusters.map((members) => members.join(',')).sort();
}

function groups(labels: number[]): string[] {
  const byLabel = new Map<number, number[]>();
  labels.forEach((label, index) => byLabel.set(label, [...(byLabel.get(label) ?? []), index]));
  return [...byLabel.values()].map((members) => members.join(',')).sort();
}

describe('clusterAgglomerative', () => {
  it('matches textbook average linkage at several thresholds', () => {
    const random = createRandom(11);
    const vectors = Array.from({ length: 45 }, () => Array.from({ length: 6 }, () => random() - 0.35));
    for (const threshold of [0.1, 0.3, 0.6, 1, 1.5]) {
      expect(groups(clusterAgglomerative(vectors, threshold).labels)).toEqual(naiveAverageLinkage(vectors, threshold));
    }
  });

  it('puts sentences about the same thing together and numbers clusters by first member', async () => {
    const texts = [
      'I have two dogs.',
      'I work as a nurse at the hospital.',
      'My dogs sleep on my bed.',
      'The hospital nurse shifts are long.',
      'I collect vintage stamps.',
    ];
    const vectors = await new LexicalEmbedder().embed(texts);
    const result = clusterAgglomerative(vectors, 0.9);
    expect(result.labels).toEqual([0, 1, 0, 1, 2]);
    expect(result.clusterCount).toBe(3);
    expect(result.merges).toHaveLength(texts.length - 1);
  });

  it('is deterministic, including ties', () => {
    const vectors = [
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
      [1, 1],
      [1, 1],
    ];
    expect(clusterAgglomerative(vectors, 0.25).labels).toEqual([0, 0, 1, 1, 2, 2]);
    // [1, 1] is equally far (0.29) from [1, 0] and [0, 1]: the tie goes to the lower index.
    const first = clusterAgglomerative(vectors, 0.5);
    expect(clusterAgglomerative(vectors, 0.5)).toEqual(first);
    expect(first.labels).toEqual([0, 0, 1, 1, 0, 0]);
    expect(clusterAgglomerative(vectors, 2).clusterCount).toBe(1);
  });

  it('rejects thresholds outside (0, 2]', () => {
    expect(() => clusterAgglomerative([[1]], 0)).toThrow(
      'Expected `threshold` to be a cosine distance in (0, 2], got 0.',
    );
  });
});

describe('computeAttributeSetStats', () => {
  it('counts attributes and clusters, mean centroid distance and mean token length', () => {
    const stats = computeAttributeSetStats(
      [
        { text: 'I have a dog.', cluster: 'a' },
        { text: 'I have two dogs now.', cluster: 'a' },
        { text: 'I am a nurse.', cluster: 'b' },
        { text: 'I like tea.' },
      ],
      [
        [1, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ],
    );
    expect(stats).toEqual({ attributes: 4, clusters: 2, mean_inter_cluster_distance: 1, mean_length_tokens: 4 });
  });
});
