import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.ts';

/** A prompt file split at its frontmatter. */
export interface FrontmatterFile {
  /** The parsed YAML of the `---` block (`{}` when the block is empty). */
  data: unknown;
  /** Everything after the closing `---` line. */
  content: string;
}

const OPENING = /^---[ \t]*\r?\n/;
const CLOSING = /^---[ \t]*$/m;

/**
 * Splits a prompt file into YAML frontmatter and body: the file starts with a `---` line, the
 * YAML runs to the next `---` line, and the body is what follows that line. `expectedFields`
 * names what the block should give, for the error when it is missing. Throws `InputError` naming
 * the file.
 */
export function readFrontmatterFile(text: string, displayPath: string, expectedFields: string): FrontmatterFile {
  const source = text.replace(/^\uFEFF/, '');
  const opening = OPENING.exec(source);
  if (!opening) {
    throw new InputError(
      `missing frontmatter: start the file with a "---" block giving ${expectedFields}, then "---" and the prompt`,
      displayPath,
    );
  }
  const rest = source.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  const block = closing ? rest.slice(0, closing.index) : rest;
  const content = closing ? rest.slice(closing.index + closing[0].length).replace(/^\r?\n/, '') : '';
  let data: unknown;
  try {
    data = parseYaml(block) ?? {};
  } catch (error) {
    throw new InputError(`frontmatter is not valid YAML: ${(error as Error).message.split('\n')[0]}`, displayPath);
  }
  return { data, content };
}
