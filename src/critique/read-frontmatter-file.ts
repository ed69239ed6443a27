import matter from 'gray-matter';
import { InputError } from '../errors.ts';

/**
 * Splits a prompt file into YAML frontmatter and body. `expectedFields` names what the "---" block
 * should give, for the error when it is missing. Throws `InputError` naming the file.
 */
export function readFrontmatterFile(text: string, displayPath: string, expectedFields: string): matter.GrayMatterFile<string> {
  const source = text.replace(/^\uFEFF/, '');
  if (!/^---\r?\n/.test(source)) {
    throw new InputError(
      `missing frontmatter: start the file with a "---" block giving ${expectedFields}, then "---" and the prompt`,
      displayPath,
    );
  }
  try {
    // Options object given on purpose: gray-matter caches (and shares) results when called without one.
    return matter(source, {});
  } catch (error) {
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    throw new InputError(`frontmatter is not valid YAML: ${reason}`, displayPath);
  }
}
