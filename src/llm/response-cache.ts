/**
 * A store for LLM replies, keyed by `responseCacheKey`. Two stores implement it: files in the run
 * directory (`cache/`) and Redis (shared by all workers). Values are small JSON strings.
 */
export interface ResponseCache {
  readonly kind: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}
