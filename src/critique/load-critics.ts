import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CriticDefinition } from '../schemas/critic.ts';
import { InputError } from '../errors.ts';
import { parseCriticFile, type DisabledCritic } from './parse-critic-file.ts';
import { loadListwisePanel } from './listwise-panel-prompt.ts';
import { loadCombinedPanel } from './combined-panel-file.ts';

export interface LoadCriticsOptions {
  /** Directory of the built-in critics. @defaultValue `defaultCriticsDir()` (the repo's `critics/`) */
  builtinDir?: string;
  /**
   * Extra critics (`--critics DIR`): a file whose `name` matches a built-in replaces it, a new name
   * adds a critic, and a file with `name` and `enabled: false` switches that critic off.
   */
  overrideDir?: string;
}

/** The repo's built-in `critics/` directory, resolved from this file's location. */
export function defaultCriticsDir(): string {
  return fileURLToPath(new URL('../../critics', import.meta.url));
}

/**
 * Loads the enabled critics: the built-in directory, then the override directory on top of it.
 * Critic files are the `*.md` files of a directory except `README.md`, read in file-name order;
 * built-ins keep that order (a replacement takes the built-in's place), added critics follow.
 * Throws `InputError` for a missing or empty directory, a bad file, or two files with one name, and
 * (with the built-in directory) for a bad panel prompt (`panel/listwise.md`, `panel/combined.md`).
 */
export async function loadCritics(options: LoadCriticsOptions = {}): Promise<CriticDefinition[]> {
  // The panel prompts beside the built-in critics are checked here too, before any LLM call, so a
  // broken `critics/panel/*.md` is an input error up front rather than a failure in every pair job.
  if (options.builtinDir === undefined) await Promise.all([loadListwisePanel(), loadCombinedPanel()]);
  const merged = new Map<string, CriticDefinition | DisabledCritic>();
  for (const entry of await readCriticDirectory(options.builtinDir ?? defaultCriticsDir())) {
    merged.set(entry.name, entry);
  }
  if (options.overrideDir !== undefined) {
    for (const entry of await readCriticDirectory(options.overrideDir)) {
      if (entry.enabled === false && !merged.has(entry.name)) {
        throw new InputError(
          `"enabled: false" switches off a critic named "${entry.name}", but there is none; known critics: ${[...merged.keys()].join(', ')}`,
          entry.sourcePath,
        );
      }
      merged.set(entry.name, entry);
    }
  }
  return [...merged.values()].filter((entry): entry is CriticDefinition => entry.enabled !== false);
}

async function readCriticDirectory(directory: string): Promise<Array<CriticDefinition | DisabledCritic>> {
  const isDirectory = await stat(directory).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    throw new InputError(`critics directory not found: ${directory} (expected a directory of critic .md files)`);
  }
  const fileNames = (await readdir(directory))
    .filter((fileName) => fileName.toLowerCase().endsWith('.md') && fileName.toLowerCase() !== 'readme.md')
    .sort();
  if (fileNames.length === 0) {
    throw new InputError(`critics directory is empty: ${directory} (expected critic .md files besides README.md)`);
  }
  const entries: Array<CriticDefinition | DisabledCritic> = [];
  const fileByName = new Map<string, string>();
  for (const fileName of fileNames) {
    const displayPath = path.join(directory, fileName);
    const entry = parseCriticFile(await readFile(displayPath, 'utf8'), displayPath);
    const previous = fileByName.get(entry.name);
    if (previous !== undefined) {
      throw new InputError(
        `frontmatter field "name": "${entry.name}" is also the name of ${previous}; critic names must be unique within a directory`,
        displayPath,
      );
    }
    fileByName.set(entry.name, displayPath);
    entries.push(entry);
  }
  return entries;
}
