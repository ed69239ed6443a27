import type { Embedder } from './embedder.ts';

export interface LexicalEmbedderOptions {
  /** Vector length (words are hashed into this many dimensions). @defaultValue 2048 */
  dimensions?: number;
  /**
   * Texts whose document frequencies give the IDF weights. @defaultValue the texts of the first
   * `embed` call (later calls reuse those weights so their vectors stay comparable)
   */
  corpus?: readonly string[];
}

// Function words that say nothing about who a person is. Negations are kept on purpose.
const STOPWORDS = new Set(
  (
    'a an the i me my mine myself im ive id ill am is are was were be been being to of in on at for with and or but ' +
    'so as by from that this it its they them their we our you your he she his her just very really also have has had do does ' +
    'did all some any about into up out over than then there here when while who what which will would can could'
  ).split(' '),
);

/**
 * Offline embedder: TF-IDF weighted bag of words (lowercased, light plural/suffix folding,
 * stopwords removed), feature-hashed into `dimensions` and L2-normalised, so cosine similarity is
 * the TF-IDF cosine. Needs no model and no network; the same inputs in the same order always give
 * the same vectors. Captures shared words, not meaning ("dog" and "puppy" are unrelated to it).
 */
export class LexicalEmbedder implements Embedder {
  readonly kind = 'lexical';
  private readonly dimensions: number;
  private idf: Map<string, number> | undefined;
  private unseenIdf = 1;

  constructor(options: LexicalEmbedderOptions = {}) {
    this.dimensions = options.dimensions ?? 2048;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 16) {
      throw new RangeError(`Expected \`dimensions\` to be an integer >= 16, got ${this.dimensions}.`);
    }
    if (options.corpus) this.fit(options.corpus);
  }

  /** Sets the IDF weights from `corpus` (replacing earlier ones). */
  fit(corpus: readonly string[]): void {
    const documentFrequency = new Map<string, number>();
    for (const text of corpus) {
      for (const token of new Set(lexicalTokens(text)))
        documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
    }
    const documents = corpus.length;
    this.idf = new Map(
      [...documentFrequency].map(([token, count]) => [token, Math.log((1 + documents) / (1 + count)) + 1]),
    );
    this.unseenIdf = Math.log(1 + documents) + 1;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    if (!this.idf) this.fit(texts);
    return texts.map((text) => this.vectorOf(text));
  }

  async dispose(): Promise<void> {}

  private vectorOf(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const counts = new Map<string, number>();
    for (const token of lexicalTokens(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
    for (const [token, count] of counts) {
      const hash = fnv1a(token);
      // A sign bit from the hash keeps collisions from adding up systematically.
      const sign = hash & 0x80000000 ? -1 : 1;
      vector[hash % this.dimensions] += sign * count * (this.idf!.get(token) ?? this.unseenIdf);
    }
    let norm = 0;
    for (const value of vector) norm += value * value;
    if (norm === 0) return vector;
    const scale = 1 / Math.sqrt(norm);
    return vector.map((value) => value * scale);
  }
}

/** Content tokens of a sentence as the lexical embedder sees them. */
export function lexicalTokens(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/['’]/g, '')
      .match(/[a-z0-9]+/g) ?? []
  )
    .filter((token) => !STOPWORDS.has(token))
    .map(foldSuffix);
}

function foldSuffix(token: string): string {
  if (token.length > 4 && token.endsWith('ies')) return `${token.slice(0, -3)}y`;
  if (token.length > 5 && token.endsWith('ing')) return token.slice(0, -3);
  if (token.length > 4 && token.endsWith('ed')) return token.slice(0, -2);
  if (token.length > 3 && token.endsWith('s') && !token.endsWith('ss')) return token.slice(0, -1);
  return token;
}

function fnv1a(text: string): number {
  let hash = 2166136261;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 16777619);
  return hash >>> 0;
}
