import { fileURLToPath } from 'node:url';
import { readFrontmatterFile } from '../util/read-frontmatter-file.ts';
import { CombinedPanelFrontmatterSchema, type CombinedPanel } from '../schemas/combined-panel.ts';
import { InputError } from '../errors.ts';
import { hashText } from '../util/hash-text.ts';
import { PLACEHOLDER_PATTERN } from './fill-placeholders.ts';
import { loadPanelFileOnce } from './load-panel-file-once.ts';

/**
 * Placeholders the combined panel prompt may use. Any other `{{name}}` is a load error.
 * - `dimensions`: one `- **<critic name>**: <description>` line per pairwise critic;
 * - `reply_format`: the JSON reply shape, one line per dimension;
 * - `user1_persona`, `user2_persona`, `conversation_a`, `conversation_b`: as for pairwise critics.
 */
export const COMBINED_PANEL_PLACEHOLDERS = [
  'dimensions',
  'reply_format',
  'user1_persona',
  'user2_persona',
  'conversation_a',
  'conversation_b',
] as const;
/** A panel prompt that never shows the dimensions or both conversations cannot judge them. */
export const REQUIRED_COMBINED_PANEL_PLACEHOLDERS = ['dimensions', 'conversation_a', 'conversation_b'] as const;

/** Key of the panel's file hash in `lineage.critic_hashes` (never a critic name: those have no "/"). */
export const COMBINED_PANEL_LINEAGE_KEY = 'panel/combined';

/** The built-in combined panel prompt, `critics/panel/combined.md`. */
export function defaultCombinedPanelPath(): string {
  return fileURLToPath(new URL('../../critics/panel/combined.md', import.meta.url));
}

/**
 * Parses a combined panel prompt file (frontmatter `name`, `description`; the body is the prompt).
 * Throws `InputError` naming the file (and line, for a bad placeholder) and the fix.
 */
export function parseCombinedPanelFile(text: string, displayPath: string): CombinedPanel {
  return parsePanelFile(text, displayPath, {
    placeholders: COMBINED_PANEL_PLACEHOLDERS,
    required: REQUIRED_COMBINED_PANEL_PLACEHOLDERS,
    what: 'the panel must show the qualities and both conversations',
  });
}

/** The placeholders a panel prompt may and must use, and why the required ones are. */
export interface PanelPlaceholders {
  placeholders: readonly string[];
  required: readonly string[];
  /** Said when a required placeholder is missing, e.g. "the panel must show the qualities and both conversations". */
  what: string;
}

/**
 * Parses a panel prompt file (frontmatter `name`, `description`; the body is the prompt) against
 * its placeholder lists. Throws `InputError` naming the file (and line, for a bad placeholder).
 */
export function parsePanelFile(text: string, displayPath: string, allowed: PanelPlaceholders): CombinedPanel {
  const source = text.replace(/^\uFEFF/, '');
  const parsed = readFrontmatterFile(source, displayPath, 'name and description');
  const frontmatter = CombinedPanelFrontmatterSchema.safeParse(parsed.data);
  if (!frontmatter.success) {
    const problems = frontmatter.error.issues.map(
      (issue) => `frontmatter field "${issue.path.map(String).join('.') || '(root)'}": ${issue.message}`,
    );
    throw new InputError(
      `${problems.join('; ')} (expected e.g. name: combined, description: One call judges every quality.)`,
      displayPath,
    );
  }
  const prompt = parsed.content.trim();
  if (!prompt) throw new InputError('prompt body is empty: write the prompt below the closing "---"', displayPath);

  const bodyOffset = source.endsWith(parsed.content) ? source.length - parsed.content.length : undefined;
  const used = new Set<string>();
  for (const match of parsed.content.matchAll(PLACEHOLDER_PATTERN)) {
    const name = match[1];
    if (!allowed.placeholders.includes(name)) {
      const line = bodyOffset === undefined ? undefined : source.slice(0, bodyOffset + match.index).split('\n').length;
      throw new InputError(
        `unknown placeholder {{${name}}} in the prompt; this panel may use ${allowed.placeholders.map((item) => `{{${item}}}`).join(', ')}`,
        displayPath,
        line,
      );
    }
    used.add(name);
  }
  const missing = allowed.required.filter((name) => !used.has(name));
  if (missing.length) {
    throw new InputError(
      `the prompt never uses ${missing.map((name) => `{{${name}}}`).join(' and ')}: ${allowed.what}`,
      displayPath,
    );
  }
  return { ...frontmatter.data, prompt, promptHash: hashText(text), sourcePath: displayPath };
}

/**
 * Reads and checks the combined panel prompt, once per path and process (workers load it lazily
 * from the installed package, so the file is read once, not per job).
 */
export function loadCombinedPanel(path = defaultCombinedPanelPath()): Promise<CombinedPanel> {
  return loadPanelFileOnce(
    path,
    parseCombinedPanelFile,
    'cannot read the combined panel prompt (critique.panel: combined)',
  );
}
