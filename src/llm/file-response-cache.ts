import { existsSync } from 'node:fs';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ResponseCache } from './response-cache.ts';

/**
 * The on-disk response cache of a run directory: one append-only JSONL file
 * (`{"k": key, "v": value}` per line). Only the byte offsets live in memory, so a 20k-conversation
 * run keeps a few MB of index, not every reply. A line torn by a crash is ignored on reopen.
 */
export async function openFileResponseCache(path: string): Promise<ResponseCache> {
  await mkdir(dirname(path), { recursive: true });
  const index = new Map<string, { offset: number; length: number }>();
  let size = 0;
  if (existsSync(path)) {
    const buffer = await readFile(path);
    let start = 0;
    while (start < buffer.length) {
      const end = buffer.indexOf(0x0a, start);
      if (end === -1) break; // torn tail: overwritten below by truncating to `size`
      const line = buffer.subarray(start, end).toString('utf8');
      try {
        const entry = JSON.parse(line) as { k: string };
        index.set(entry.k, { offset: start, length: end - start });
      } catch {
        // A corrupt line is skipped; its request is simply paid again.
      }
      start = end + 1;
    }
    size = start;
  }
  const handle: FileHandle = await open(path, existsSync(path) ? 'r+' : 'w+');
  await handle.truncate(size);
  let tail: Promise<void> = Promise.resolve();
  return {
    kind: 'file',
    async get(key) {
      const location = index.get(key);
      if (!location) return undefined;
      await tail;
      const buffer = Buffer.alloc(location.length);
      await handle.read(buffer, 0, location.length, location.offset);
      return (JSON.parse(buffer.toString('utf8')) as { v: string }).v;
    },
    set(key, value) {
      if (index.has(key)) return Promise.resolve();
      const line = Buffer.from(`${JSON.stringify({ k: key, v: value })}\n`);
      const offset = size;
      size += line.length;
      index.set(key, { offset, length: line.length - 1 });
      tail = tail.then(async () => {
        await handle.write(line, 0, line.length, offset);
      });
      return tail;
    },
    async close() {
      await tail;
      await handle.close();
    },
  };
}
