/**
 * A local model file is missing and cannot be downloaded (offline, HTTP error, bad checksum).
 * The message names the cause and the three ways forward. Exit code 2: the user has to act.
 */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
  /** The CLI's exit code for this error (bad input: the user has to act). */
  readonly exitCode = 2;
  constructor(
    /** What went wrong, one sentence, e.g. `Could not download hf:…: fetch failed.` */
    readonly reason: string,
    /** The model reference (`hf:…`, URL or file path) that could not be resolved. */
    readonly reference: string,
    /** Directory the model cache looks in (`<cacheDir>/models`). */
    readonly modelsDir: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      [
        reason,
        'Ways forward:',
        '  1. Use a GGUF file you already have: --model-path FILE.gguf',
        `  2. On a connected machine run \`persona-forge models pull${reference.startsWith('hf:') || /^https?:/.test(reference) ? ` ${reference}` : ''}\`,`,
        `     then copy the file into ${modelsDir}`,
        '  3. Use an OpenAI-compatible endpoint instead: --base-url URL (or set OPENAI_BASE_URL)',
      ].join('\n'),
      { cause: options.cause },
    );
  }
}
