import { InputError } from '../errors.ts';
import { scanJsonlLines } from './read-jsonl.ts';

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
  // Pulled a chunk at a time (`scanJsonlLines`): linear, and memory bounded whatever the file's size.
  for await (const { text, line } of scanJsonlLines(file)) {
    if (text.trim() === '') continue;
    flush(false);
    pending = { text: text.endsWith('\r') ? text.slice(0, -1) : text, line };
  }
  flush(true);
}
