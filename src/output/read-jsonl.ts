import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';

/**
 * Reads a JSONL file and validates every line. A torn last line (a crash mid-write) is dropped
 * when `tolerateTornTail` is set; any other bad line is an `InputError` naming file and line.
 */
export async function readJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  options: { tolerateTornTail?: boolean } = {},
): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  const records: T[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (!line) continue;
    const isLast = lines.slice(index + 1).every((rest) => rest.trim() === '');
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      if (isLast && options.tolerateTornTail && !text.endsWith('\n')) break;
      throw new InputError(`invalid JSON (${(error as Error).message})`, path, index + 1);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`field "${issue.path.join('.')}": ${issue.message}`, path, index + 1);
    }
    records.push(parsed.data);
  }
  return records;
}
