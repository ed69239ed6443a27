import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError } from '../errors.ts';

/**
 * Streams a JSONL file line by line (constant memory, for large `candidates.jsonl`), calling
 * `onRecord(value, lineNumber)` for each parsed non-empty line. A line that is not
 * JSON is an `InputError`, except an unterminated last line (a crash mid-write), which is passed
 * over silently when `tolerateTornTail` is set.
 */
export async function readJsonlLines(
  file: string,
  onRecord: (value: unknown, line: number) => void,
  options: { tolerateTornTail?: boolean } = { tolerateTornTail: true },
): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  let pending: { text: string; line: number } | null = null;
  const flush = (isLast: boolean) => {
    if (!pending) return;
    const { text, line } = pending;
    pending = null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (isLast && options.tolerateTornTail) return;
      throw new InputError(`invalid JSON (${(error as Error).message})`, file, line);
    }
    onRecord(value, line);
  };
  for await (const text of lines) {
    lineNumber++;
    if (text.trim() === '') continue;
    flush(false);
    pending = { text, line: lineNumber };
  }
  flush(true);
}
