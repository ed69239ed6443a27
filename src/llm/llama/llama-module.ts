import { LlmError } from '../../errors.ts';

export type NodeLlamaCpp = typeof import('node-llama-cpp');

/**
 * Loads node-llama-cpp on first use, so API-only installs and commands that never touch the local
 * model do not pay for it. Throws a non-retryable `LlmError` that says what to do when the package
 * is missing or does not load.
 */
export async function loadNodeLlamaCpp(
  importModule: () => Promise<NodeLlamaCpp> = () => import('node-llama-cpp'),
): Promise<NodeLlamaCpp> {
  try {
    return await importModule();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new LlmError(
      `The local model backend needs the package node-llama-cpp, which is missing or does not load (${why}). ` +
        'Install it with `npm install node-llama-cpp@3.22.1`, or use an OpenAI-compatible endpoint with --base-url (or OPENAI_BASE_URL).',
      { retryable: false, cause: error },
    );
  }
}
