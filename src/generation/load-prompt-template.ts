import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { hashText } from '../util/hash-text.ts';
import { readFrontmatterFile } from '../util/read-frontmatter-file.ts';
import { SystemPromptFrontmatterSchema, type PromptTemplate } from '../schemas/prompt-template.ts';

export type { PromptTemplate } from '../schemas/prompt-template.ts';

const REQUIRED_PLACEHOLDERS = ['examples', 'user1_persona', 'user2_persona'] as const;
const KNOWN_PLACEHOLDERS = new Set([...REQUIRED_PLACEHOLDERS, 'min_turns', 'max_turns']);

/** The built-in generator template shipped with persona-forge. */
export function defaultPromptTemplatePath(): string {
  return fileURLToPath(new URL('./generator-prompt.md', import.meta.url));
}

/** Reads and checks a generator prompt template file. */
export async function loadPromptTemplate(path = defaultPromptTemplatePath()): Promise<PromptTemplate> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError('cannot read the generator prompt template; check `generation.template`', path);
  }
  const parsed = readFrontmatterFile(text, path, 'the system message (system: ...)');
  const frontmatter = SystemPromptFrontmatterSchema.safeParse(parsed.data);
  if (!frontmatter.success) {
    throw new InputError('frontmatter field "system": expected the system message as a non-empty string', path);
  }
  const used = new Set([...parsed.content.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]));
  for (const name of used) {
    if (!KNOWN_PLACEHOLDERS.has(name)) {
      throw new InputError(
        `unknown placeholder {{${name}}}; known: ${[...KNOWN_PLACEHOLDERS].map((p) => `{{${p}}}`).join(', ')}`,
        path,
      );
    }
  }
  for (const name of REQUIRED_PLACEHOLDERS) {
    if (!used.has(name)) throw new InputError(`missing required placeholder {{${name}}}`, path);
  }
  return {
    system: frontmatter.data.system.trim(),
    body: parsed.content.trim(),
    hash: hashText(text),
    sourcePath: path,
  };
}
