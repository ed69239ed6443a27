import { open, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes JSON through a temporary file and a rename, so readers never see a half-written file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  const handle = await open(temporaryPath, 'w');
  try {
    await handle.write(JSON.stringify(value, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
}
