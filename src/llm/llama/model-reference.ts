import { basename } from 'node:path';
import { ConfigError } from '../../errors.ts';

/** Where a model comes from: a local file, or a remote file that is cached under `<cacheDir>/models`. */
export type ModelReference =
  | { kind: 'file'; reference: string; path: string }
  | {
      kind: 'remote';
      reference: string;
      /** HTTPS URL the file is downloaded from. */
      url: string;
      /** Name of the file in the cache directory (the remote file's base name). */
      fileName: string;
    };

const HUGGING_FACE_PREFIX = 'hf:';

/**
 * Parses a model reference:
 * - `hf:<user>/<repo>/<path/to/file>.gguf[#<revision>]` → `https://huggingface.co/<user>/<repo>/resolve/<revision or main>/<path>`
 * - `https://…/<file>.gguf` → that URL
 * - anything else → a local file path.
 * Throws `ConfigError` for an `hf:` reference that does not name a `.gguf` file.
 */
export function parseModelReference(reference: string): ModelReference {
  if (reference.startsWith(HUGGING_FACE_PREFIX)) {
    const [location, revision = 'main'] = reference.slice(HUGGING_FACE_PREFIX.length).split('#', 2);
    const segments = location.split('/').filter(Boolean);
    if (segments.length < 3 || !location.toLowerCase().endsWith('.gguf') || !revision) {
      throw new ConfigError(
        `Expected a model reference like \`hf:<user>/<repo>/<file>.gguf\` (optionally \`#<revision>\`), got \`${reference}\`.`,
      );
    }
    const [user, repo, ...filePath] = segments;
    const encodedPath = filePath.map(encodeURIComponent).join('/');
    return {
      kind: 'remote',
      reference,
      url: `https://huggingface.co/${user}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`,
      fileName: filePath[filePath.length - 1],
    };
  }
  if (/^https?:\/\//i.test(reference)) {
    const fileName = decodeURIComponent(basename(new URL(reference).pathname));
    if (!fileName.toLowerCase().endsWith('.gguf')) {
      throw new ConfigError(`Expected a model URL that ends in \`.gguf\`, got \`${reference}\`.`);
    }
    return { kind: 'remote', reference, url: reference, fileName };
  }
  return { kind: 'file', reference, path: reference };
}
