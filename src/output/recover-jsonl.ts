import { existsSync } from 'node:fs';
import { appendFile, copyFile, open, rename, stat, truncate } from 'node:fs/promises';
import type { z } from 'zod';
import { streamJsonl, type JsonlPosition, type JsonlScanStats } from './read-jsonl.ts';

/** What `recoverJsonl` found and did. */
export interface JsonlRecovery {
  /** Records kept (handed to `onRecord`). */
  kept: number;
  /** Records `keep` rejected (removed from the file). */
  dropped: number;
  /** Bytes cut off after the last kept record: rejected records, a line torn by a crash, blank lines. */
  cutBytes: number;
  /** How the file was made clean for appends. */
  repair: 'none' | 'truncated' | 'newline-added' | 'rewritten';
  /** The end of the file once recovered: its size, and the line number of its last record. */
  end: JsonlPosition;
}

export interface RecoverJsonlOptions<T> {
  /** Records to keep; the others are removed from the file. Must give the same answer when asked twice. @defaultValue keep all */
  keep?: (record: T) => boolean;
  /** Called with each kept record, in file order. */
  onRecord?: (record: T, line: number) => void;
  /**
   * Where the part to recover starts: the bytes before it are known to be whole, kept records
   * (e.g. up to a checkpoint) and are neither read nor changed. @defaultValue the start of the file
   */
  from?: JsonlPosition;
  /** Read counters (both passes, when the file is rewritten). */
  stats?: JsonlScanStats;
}

/** Bytes gathered before each write of a rewrite. */
const WRITE_BYTES = 1024 * 1024;

/**
 * Reads a JSONL run file that may end in a line torn by a crash, streaming from `from` (linear
 * time, memory bounded by the longest line), and leaves it clean for appends, doing the least
 * that does:
 * - nothing to remove but a tail (rejected records after the last kept one, a torn last line,
 *   blank lines): the file is truncated at the tail's start, and a whole last record without its
 *   newline gets one (no copy of the file);
 * - rejected records before a kept one: the kept lines are copied, byte for byte, to a temporary
 *   file (after a plain copy of the bytes before `from`) that replaces the original by a rename.
 * A line that is not JSON (other than a torn last one) or does not match `schema` is an
 * `InputError` naming file and line.
 */
export async function recoverJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  options: RecoverJsonlOptions<T> = {},
): Promise<JsonlRecovery> {
  const from = options.from ?? { offset: 0, line: 0 };
  const recovery: JsonlRecovery = { kept: 0, dropped: 0, cutBytes: 0, repair: 'none', end: { ...from } };
  if (!existsSync(path)) return recovery;
  const keep = options.keep ?? (() => true);
  /** Where the records `keep` rejected after the last kept one start (undefined: none). */
  let droppedTailStart: number | undefined;
  let droppedBeforeKept = false;
  let lastTerminated = true;
  const streamOptions = { tolerateTornTail: true, stats: options.stats, from };
  for await (const { value, line } of streamJsonl(path, schema, streamOptions)) {
    if (keep(value)) {
      recovery.kept++;
      options.onRecord?.(value, line.line);
      if (droppedTailStart !== undefined) droppedBeforeKept = true;
      droppedTailStart = undefined;
      recovery.end = { offset: line.offset + line.bytes, line: line.line };
      lastTerminated = line.terminated;
    } else {
      recovery.dropped++;
      droppedTailStart ??= line.offset;
    }
  }
  const { size } = await stat(path);
  recovery.cutBytes = size - recovery.end.offset;
  if (droppedBeforeKept) {
    recovery.end = await rewriteKept(path, schema, keep, from, options.stats);
    recovery.repair = 'rewritten';
  } else if (recovery.cutBytes > 0) {
    // Past the last kept record there are only rejected records, a torn line or blank lines: cut them.
    await truncate(path, recovery.end.offset);
    recovery.repair = 'truncated';
  } else if (!lastTerminated) {
    await appendFile(path, '\n');
    recovery.end.offset++;
    recovery.repair = 'newline-added';
  }
  return recovery;
}

/**
 * Copies the bytes before `from`, then the lines of the records `keep` accepts, to a temporary
 * file, fsyncs it and renames it over `path`. Returns the new end of the file.
 */
async function rewriteKept<T>(
  path: string,
  schema: z.ZodType<T>,
  keep: (record: T) => boolean,
  from: JsonlPosition,
  stats: JsonlScanStats | undefined,
): Promise<JsonlPosition> {
  const temporaryPath = `${path}.${process.pid}.tmp`;
  if (from.offset > 0) {
    // The bytes before `from` are kept as they are: a plain copy (the kernel's, where it can), no parsing.
    await copyFile(path, temporaryPath);
    await truncate(temporaryPath, from.offset);
  }
  const handle = await open(temporaryPath, from.offset > 0 ? 'a' : 'w');
  const end = { ...from };
  try {
    let pending: string[] = [];
    const write = async () => {
      if (pending.length) await handle.write(pending.join(''));
      pending = [];
    };
    let pendingBytes = 0;
    for await (const { value, line } of streamJsonl(path, schema, { tolerateTornTail: true, stats, from })) {
      if (!keep(value)) continue;
      pending.push(`${line.text}\n`);
      pendingBytes += Buffer.byteLength(line.text) + 1;
      end.offset += Buffer.byteLength(line.text) + 1;
      end.line++;
      if (pendingBytes >= WRITE_BYTES) {
        await write();
        pendingBytes = 0;
      }
    }
    await write();
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
  return end;
}
