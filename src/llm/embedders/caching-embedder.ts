import type { Embedder } from './embedder.ts';

/** Wraps an embedder so each distinct text is embedded once (per instance); order and results unchanged. */
export class CachingEmbedder implements Embedder {
  readonly kind: string;
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly inner: Embedder) {
    this.kind = inner.kind;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((text) => !this.cache.has(text)))];
    if (missing.length > 0) {
      const vectors = await this.inner.embed(missing);
      missing.forEach((text, index) => this.cache.set(text, vectors[index]));
    }
    return texts.map((text) => this.cache.get(text)!);
  }

  dispose(): Promise<void> {
    this.cache.clear();
    return this.inner.dispose();
  }
}
