import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Append-only JSONL file with one writer: every `append` is written and fsynced before it resolves. */
export interface JsonlSink {
  readonly path: string;
  append(records: readonly unknown[]): Promise<void>;
  /** Resolves when every append so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openJsonlSink(path: string): Promise<JsonlSink> {
  await mkdir(dirname(path), { recursive: true });
  const handle: FileHandle = await open(path, 'a');
  // Appends are chained so concurrent callers can never interleave partial lines.
  let tail: Promise<void> = Promise.resolve();
  return {
    path,
    append(records) {
      if (records.length === 0) return tail;
      const text = records.map((record) => JSON.stringify(record)).join('\n') + '\n';
      tail = tail.then(async () => {
        await handle.write(text);
        await handle.sync();
      });
      return tail;
    },
    flush() {
      return tail;
    },
    async close() {
      await tail;
      await handle.close();
    },
  };
}
