/**
 * Unit vectors kept as Float32Array rows, with the largest cosine similarity of a query to any of
 * them: the near-duplicate and redundancy test of persona expansion and profile construction.
 */
export class VectorIndex {
  private readonly rows: Float32Array[] = [];

  get size(): number {
    return this.rows.length;
  }

  add(vector: ArrayLike<number>): void {
    this.rows.push(toUnit(vector));
  }

  row(index: number): Float32Array {
    return this.rows[index];
  }

  /** Largest cosine similarity between `vector` and a stored row (-1 when empty), and its position. */
  nearest(vector: ArrayLike<number>): { similarity: number; index: number } {
    const query = toUnit(vector);
    let best = -1;
    let bestIndex = -1;
    for (let index = 0; index < this.rows.length; index++) {
      const row = this.rows[index];
      let dot = 0;
      for (let k = 0; k < query.length; k++) dot += query[k] * row[k];
      if (dot > best) {
        best = dot;
        bestIndex = index;
      }
    }
    return { similarity: best, index: bestIndex };
  }
}

/** Cosine similarity of two vectors (0 when either is all zeros). */
export function cosineOf(left: ArrayLike<number>, right: ArrayLike<number>): number {
  const a = toUnit(left);
  const b = toUnit(right);
  let dot = 0;
  for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
  return dot;
}

function toUnit(vector: ArrayLike<number>): Float32Array {
  const unit = Float32Array.from(vector);
  let norm = 0;
  for (let k = 0; k < unit.length; k++) norm += unit[k] * unit[k];
  if (norm === 0) return unit;
  const scale = 1 / Math.sqrt(norm);
  for (let k = 0; k < unit.length; k++) unit[k] *= scale;
  return unit;
}
