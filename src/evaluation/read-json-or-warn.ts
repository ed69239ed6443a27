import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * A run file's JSON for the report, or null when it is absent or unusable (a warning then says why
 * and the report shows the rest): `accept` returns null for content it does not recognize.
 */
export async function readJsonOrWarn<T>(
  path: string,
  warnings: string[],
  accept: (value: unknown) => T | null,
): Promise<T | null> {
  if (!existsSync(path)) return null;
  try {
    const value = accept(JSON.parse(await readFile(path, 'utf8')));
    if (value === null) warnings.push(`${path}: unexpected content (another persona-forge version?), not shown`);
    return value;
  } catch (error) {
    warnings.push(`${path}: cannot read (${(error as Error).message})`);
    return null;
  }
}
