/** Pairwise distances of n points stored as the upper triangle (i < j), row by row. */
export interface CondensedDistances {
  size: number;
  values: Float64Array;
}

/** Position of (i, j), i != j, in a condensed matrix of `size` points. */
export function condensedIndex(size: number, i: number, j: number): number {
  const [low, high] = i < j ? [i, j] : [j, i];
  return low * size - (low * (low + 1)) / 2 + (high - low - 1);
}

/**
 * Cosine distances (1 − cosine similarity, in [0, 2]) between all vectors. A zero vector is at
 * distance 1 from everything. Sparse vectors (the lexical embedder's) take a sparse fast path.
 */
export function cosineDistanceMatrix(vectors: readonly (readonly number[])[]): CondensedDistances {
  const size = vectors.length;
  const values = new Float64Array((size * (size - 1)) / 2);
  const dimensions = vectors[0]?.length ?? 0;
  const unit = vectors.map(toUnit);
  const nonZero = unit.map((vector) => {
    const indices: number[] = [];
    for (let index = 0; index < vector.length; index++) if (vector[index] !== 0) indices.push(index);
    return Int32Array.from(indices);
  });
  const meanNonZero = nonZero.reduce((sum, indices) => sum + indices.length, 0) / Math.max(1, size);
  const sparse = meanNonZero < dimensions / 4;
  let position = 0;
  for (let i = 0; i < size; i++) {
    const left = unit[i];
    const leftIndices = nonZero[i];
    for (let j = i + 1; j < size; j++) {
      const right = unit[j];
      let dot = 0;
      if (sparse) {
        for (let k = 0; k < leftIndices.length; k++) dot += left[leftIndices[k]] * right[leftIndices[k]];
      } else {
        for (let k = 0; k < dimensions; k++) dot += left[k] * right[k];
      }
      values[position++] = 1 - Math.max(-1, Math.min(1, dot));
    }
  }
  return { size, values };
}

function toUnit(vector: readonly number[]): Float64Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  const unit = Float64Array.from(vector);
  if (norm === 0) return unit;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < unit.length; index++) unit[index] *= scale;
  return unit;
}
