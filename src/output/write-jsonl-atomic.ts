import { open, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a whole JSONL file through a temporary file and a rename (pool versions, rewrites). */
export async function writeJsonlAtomic(path: string, records: readonly unknown[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  const handle = await open(temporaryPath, 'w');
  try {
    await handle.write(records.map((record) => JSON.stringify(record)).join('\n') + (records.length ? '\n' : ''));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
}
