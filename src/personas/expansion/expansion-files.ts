import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../../errors.ts';

/** Paths of an expansion's files: the attributes JSONL and its companions beside it. */
export function expansionPaths(out: string): { attributes: string; queries: string; stats: string } {
  return { attributes: out, queries: `${out}.queries.jsonl`, stats: `${out}.stats.json` };
}

/** Reads a JSONL file of `schema` records; a missing file is empty. Bad lines are `InputError`s. */
export async function readJsonlIfExists<T>(
  path: string,
  schema: z.ZodType<T>,
  howToFix: string,
): Promise<T[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`cannot be read (${(error as Error).message})`, path);
  }
  const records: T[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      // A crash can leave a half-written last line: drop it, it will be made again.
      if (index >= lines.length - 2) continue;
      throw new InputError(`invalid JSON. ${howToFix}`, path, index + 1);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
      );
      throw new InputError(`${problems.join('; ')}. ${howToFix}`, path, index + 1);
    }
    records.push(parsed.data);
  }
  return records;
}

/** Appends records as JSON lines, creating the directory and file when needed. */
export async function appendJsonl(path: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
}
