/** A model whose file we know: downloads of it are checked against size and SHA-256. */
export interface KnownModel {
  /** `hf:` reference, pinned to a revision. */
  reference: string;
  /** File name in `<cacheDir>/models`. */
  fileName: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the whole file. */
  sha256: string;
  license: string;
  description: string;
}

/**
 * The default local model: Qwen2.5-0.5B-Instruct, Q4_K_M, from Qwen's own GGUF repository.
 * Apache-2.0, 491 MB, 32k-token context, ChatML template that node-llama-cpp recognises.
 * Chosen as the smallest open-license instruct model that still follows a JSON verdict format and
 * writes English dialogue; quality is far below API models — it exists so `persona-forge run`
 * works with no account and no server. Size and hash are those of the pinned revision.
 */
export const DEFAULT_MODEL: KnownModel = {
  reference:
    'hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf#9217f5db79a29953eb74d5343926648285ec7e67',
  fileName: 'qwen2.5-0.5b-instruct-q4_k_m.gguf',
  sizeBytes: 491_400_032,
  sha256: '74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db',
  license: 'Apache-2.0',
  description: 'Qwen2.5-0.5B-Instruct Q4_K_M (494M parameters)',
};

export const KNOWN_MODELS: readonly KnownModel[] = [DEFAULT_MODEL];

/** The known model with exactly this reference (a different revision is a different file). */
export function findKnownModel(reference: string): KnownModel | undefined {
  return KNOWN_MODELS.find((model) => model.reference === reference);
}
