import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResponseCache } from './response-cache.ts';

export interface FileResponseCacheOptions {
  /**
   * New entries are written to disk in one batch this long after the first unwritten one (and on
   * `close()`), not one write per reply. A crash loses at most this window of cached replies; they
   * are paid again on resume. @defaultValue 200
   */
  flushIntervalMs?: number;
}

/**
 * The on-disk response cache of a run directory: one append-only JSONL file
 * (`{"k": key, "v": value}` per line). Only byte offsets live in memory, so a 20k-conversation
 * run keeps a few MB of index, not every reply. A line torn by a crash is ignored on reopen.
 * Writes are batched (see `flushIntervalMs`) and synchronous: one `write` per batch instead of one
 * thread-pool round trip per reply, which was about a tenth of persona-forge's CPU per LLM call.
 */
export async function openFileResponseCache(path: string, options: FileResponseCacheOptions = {}): Promise<ResponseCache> {
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  mkdirSync(dirname(path), { recursive: true });
  const index = new Map<string, { offset: number; length: number }>();
  let size = 0;
  if (existsSync(path)) {
    const buffer = readFileSync(path);
    let start = 0;
    while (start < buffer.length) {
      const end = buffer.indexOf(0x0a, start);
      if (end === -1) break; // torn tail: cut off below by truncating to `size`
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
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  ftruncateSync(fd, size);
  /** Entries not yet on disk, by key (reads of those are answered from here). */
  const pending = new Map<string, string>();
  let pendingLines: string[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pendingLines.length === 0) return;
    const chunk = Buffer.from(pendingLines.join(''));
    pendingLines = [];
    pendingBytes = 0;
    for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written, chunk.length - written, size + written);
    size += chunk.length;
    pending.clear();
  }

  return {
    kind: 'file',
    async get(key) {
      const value = pending.get(key);
      if (value !== undefined) return value;
      const location = index.get(key);
      if (!location) return undefined;
      const buffer = Buffer.alloc(location.length);
      readSync(fd, buffer, 0, location.length, location.offset);
      return (JSON.parse(buffer.toString('utf8')) as { v: string }).v;
    },
    async set(key, value) {
      if (closed || index.has(key)) return;
      const line = `${JSON.stringify({ k: key, v: value })}\n`;
      // The offset is where the line lands once the batch before it is written.
      const bytes = Buffer.byteLength(line);
      index.set(key, { offset: size + pendingBytes, length: bytes - 1 });
      pendingBytes += bytes;
      pending.set(key, value);
      pendingLines.push(line);
      if (!timer) {
        timer = setTimeout(flush, flushIntervalMs);
        timer.unref();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      flush();
      closeSync(fd);
    },
  };
}
