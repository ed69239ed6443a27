/**
 * Measures the memory of the on-disk response cache's in-memory index (`openFileResponseCache`
 * keeps one key -> offset entry per cached reply): fills a cache with N entries in a temporary
 * directory and reports the heap growth after a full GC. Forked with `--expose-gc`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openFileResponseCache } from '../src/llm/file-response-cache.ts';

process.once('message', async ({ entries }: { entries: number }) => {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const directory = await mkdtemp(join(tmpdir(), 'pf-bench-cache-'));
  const cache = await openFileResponseCache(join(directory, 'responses.jsonl'));
  const value = JSON.stringify({ text: 'x', model: 'm', promptTokens: 1, completionTokens: 1 });
  gc();
  const before = process.memoryUsage();
  for (let index = 0; index < entries; index++) {
    const key = createHash('sha256').update(String(index)).digest('hex');
    void cache.set(key, value);
    if (index % 10_000 === 9_999) await cache.get(key);
  }
  await cache.close();
  gc();
  const after = process.memoryUsage();
  await rm(directory, { recursive: true, force: true });
  process.send!(
    { heapMb: (after.heapUsed - before.heapUsed) / 1024 / 1024, rssMb: (after.rss - before.rss) / 1024 / 1024 },
    () => process.exit(0),
  );
});
