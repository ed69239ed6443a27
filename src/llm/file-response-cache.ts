import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
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
export async function openFileResponseCache(
  path: string,
  options: FileResponseCacheOptions = {},
): Promise<ResponseCache> {
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  mkdirSync(dirname(path), { recursive: true });
  const index = new Map<string, { offset: number; length: number }>();
  let size = 0;
  if (existsSync(path)) size = indexCacheFile(path, index);
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
    for (let written = 0; written < chunk.length;)
      written += writeSync(fd, chunk, written, chunk.length - written, size + written);
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

/** Bytes read per chunk when indexing the cache file on open. */
const INDEX_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Indexes the cache file in one streaming pass (a chunk at a time, so memory stays bounded
 * however large the file has grown) and returns the end of its last whole line: a torn tail is
 * cut off there by the caller.
 */
function indexCacheFile(path: string, index: Map<string, { offset: number; length: number }>): number {
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(INDEX_CHUNK_BYTES);
    let position = 0; // file offset of buffer[0]
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        // One line longer than the buffer: grow it (rare: replies are a few KB).
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, filled);
        buffer = larger;
      }
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, position + filled);
      if (bytesRead === 0) return position;
      filled += bytesRead;
      let start = 0;
      for (let end = buffer.indexOf(0x0a, start); end !== -1 && end < filled; end = buffer.indexOf(0x0a, start)) {
        try {
          const entry = JSON.parse(buffer.toString('utf8', start, end)) as { k: string };
          index.set(entry.k, { offset: position + start, length: end - start });
        } catch {
          // A corrupt line is skipped; its request is simply paid again.
        }
        start = end + 1;
      }
      // Keep the unfinished line at the front of the buffer for the next read.
      buffer.copy(buffer, 0, start, filled);
      position += start;
      filled -= start;
    }
  } finally {
    closeSync(fd);
  }
}
