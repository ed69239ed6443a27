import { existsSync } from 'node:fs';
import { readJsonlLines } from '../output/read-jsonl-lines.ts';

/** Each record of a run's JSONL file for the report; a torn last line is tolerated, any other error becomes a warning. */
export async function readJsonlOrWarn(
  path: string,
  warnings: string[],
  onRecord: (value: unknown, line: number) => void,
): Promise<void> {
  if (!existsSync(path)) return;
  try {
    await readJsonlLines(path, onRecord, { tolerateTornTail: true });
  } catch (error) {
    warnings.push(`${path}: ${(error as Error).message}; the rest of the file is not shown`);
  }
}
