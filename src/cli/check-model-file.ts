import { open } from 'node:fs/promises';
import { ConfigError, InputError, LlmError } from '../errors.ts';

/** The four bytes every GGUF file starts with. */
const GGUF_MAGIC = 'GGUF';

/**
 * Checks a `--model-path` file before the model is loaded: it exists, is readable and starts like
 * a GGUF file. Throws an `InputError` naming the file and the fix. (node-llama-cpp's
 * `readGgufFileInfo` is no deeper check: it reads a truncated file without complaint.)
 */
export async function checkModelFile(path: string): Promise<void> {
  let head: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'a directory, not a file'
          : `cannot be read (${code ?? (error as Error).message})`;
    throw new InputError(`--model-path: ${why}; pass a .gguf model file (or use --base-url for an endpoint)`, path);
  }
  if (head.toString('latin1') !== GGUF_MAGIC) {
    throw new InputError(
      `--model-path: not a GGUF model (it starts with ${JSON.stringify(head.toString('latin1'))}, a GGUF file with "GGUF"); ` +
        'pass a .gguf file, e.g. one fetched with `persona-forge models pull`',
      path,
    );
  }
}

/**
 * A local model that llama.cpp could not load (a damaged or truncated file, too little memory, an
 * unsupported architecture) or a missing node-llama-cpp is bad input: the user has to pick another
 * file or install the package. Turns such an `LlmError` into an `InputError` naming the file.
 */
export function modelLoadFailure(error: unknown, modelPath: string | undefined): unknown {
  if (!(error instanceof LlmError) || error.retryable) return error;
  const hint =
    'the file may be damaged or truncated (download it again), too large for this machine, or not a model this llama.cpp supports';
  return modelPath
    ? new InputError(`--model-path: ${error.message}; ${hint}`, modelPath)
    : new ConfigError(error.message);
}
