import { existsSync } from 'node:fs';
import { appendFile, open, rename, stat, truncate } from 'node:fs/promises';
import type { z } from 'zod';
import { streamJsonl, type JsonlScanStats } from './read-jsonl.ts';

/** What `recoverJsonl` found and did. */
export interface JsonlRecovery {
  /** Records kept (handed to `onRecord`). */
  kept: number;
  /** Records `keep` rejected (removed from the file). */
  dropped: number;
  /** Bytes cut off after the last record: a line torn by a crash (and blank lines before it). */
  cutBytes: number;
  /** How the file was made clean for appends. */
  repair: 'none' | 'truncated' | 'newline-added' | 'rewritten';
}

export interface RecoverJsonlOptions<T> {
  /** Records to keep; the others are removed from the file. Must give the same answer when asked twice. @defaultValue keep all */
  keep?: (record: T) => boolean;
  /** Called with each kept record, in file order. */
  onRecord?: (record: T, line: number) => void;
  /** Read counters (both passes, when the file is rewritten). */
  stats?: JsonlScanStats;
}

/** Bytes gathered before each write of a rewrite. */
const WRITE_BYTES = 1024 * 1024;

/**
 * Reads a JSONL run file that may end in a line torn by a crash, streaming (linear time, memory
 * bounded by the longest line), and leaves it clean for appends, doing the least that does:
 * - nothing to remove: a torn last line is cut off by truncating the file at its start, and a
 *   whole last record without its newline gets one (no copy of the file);
 * - records `keep` rejects: the kept lines are copied, byte for byte, to a temporary file that
 *   replaces the original by a rename (a second streaming pass).
 * A line that is not JSON (other than a torn last one) or does not match `schema` is an
 * `InputError` naming file and line.
 */
export async function recoverJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  options: RecoverJsonlOptions<T> = {},
): Promise<JsonlRecovery> {
  const recovery: JsonlRecovery = { kept: 0, dropped: 0, cutBytes: 0, repair: 'none' };
  if (!existsSync(path)) return recovery;
  const keep = options.keep ?? (() => true);
  let cleanEnd = 0;
  let lastTerminated = true;
  for await (const { value, line } of streamJsonl(path, schema, { tolerateTornTail: true, stats: options.stats })) {
    if (keep(value)) {
      recovery.kept++;
      options.onRecord?.(value, line.line);
    } else recovery.dropped++;
    cleanEnd = line.offset + line.bytes;
    lastTerminated = line.terminated;
  }
  const { size } = await stat(path);
  recovery.cutBytes = size - cleanEnd;
  if (recovery.dropped > 0) {
    await rewriteKept(path, schema, keep, options.stats);
    recovery.repair = 'rewritten';
  } else if (recovery.cutBytes > 0) {
    // Past the last record there is only a torn line or blank lines: cut them, copy nothing.
    await truncate(path, cleanEnd);
    recovery.repair = 'truncated';
  } else if (!lastTerminated) {
    await appendFile(path, '\n');
    recovery.repair = 'newline-added';
  }
  return recovery;
}

/** Copies the lines of the records `keep` accepts to a temporary file, fsyncs it and renames it over `path`. */
async function rewriteKept<T>(
  path: string,
  schema: z.ZodType<T>,
  keep: (record: T) => boolean,
  stats: JsonlScanStats | undefined,
): Promise<void> {
  const temporaryPath = `${path}.${process.pid}.tmp`;
  const handle = await open(temporaryPath, 'w');
  try {
    let pending: string[] = [];
    let pendingBytes = 0;
    const write = async () => {
      if (pending.length) await handle.write(pending.join(''));
      pending = [];
      pendingBytes = 0;
    };
    for await (const { value, line } of streamJsonl(path, schema, { tolerateTornTail: true, stats })) {
      if (!keep(value)) continue;
      pending.push(`${line.text}\n`);
      pendingBytes += line.bytes;
      if (pendingBytes >= WRITE_BYTES) await write();
    }
    await write();
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
}
