/**
 * The port through which persona-forge turns sentences into vectors (persona clustering,
 * near-duplicate and redundancy checks). Adapters: `LexicalEmbedder` (TF-IDF, offline),
 * `OpenAiEmbedder` (`/embeddings`), `LlamaCppEmbedder` (local GGUF). Vectors of one embedder are
 * comparable with each other only; compare them with `cosineSimilarity`.
 */
export interface Embedder {
  /** Adapter id and model, e.g. `lexical`, `openai:text-embedding-3-small`. Recorded in reports. */
  readonly kind: string;
  /** One vector per text, in input order, all of the same length. Deterministic for `lexical`. */
  embed(texts: readonly string[]): Promise<number[][]>;
  /** Releases sockets and model memory. Idempotent. */
  dispose(): Promise<void>;
}

/** Cosine similarity in [-1, 1]; 0 when either vector is all zeros. */
export function cosineSimilarity(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index] * right[index];
    leftNorm += left[index] * left[index];
    rightNorm += right[index] * right[index];
  }
  if (leftNorm === 0 || rightNorm === 0) return 0;
  return dot / Math.sqrt(leftNorm * rightNorm);
}

/** The vector scaled to unit length (a zero vector stays zero). */
export function normalizeVector(vector: readonly number[]): number[] {
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm === 0) return [...vector];
  const scale = 1 / Math.sqrt(norm);
  return vector.map((value) => value * scale);
}
