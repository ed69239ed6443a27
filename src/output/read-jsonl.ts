import { open } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';

/** One line of a JSONL file, as `scanJsonlLines` yields it. */
export interface JsonlLine {
  /** The line without its newline. */
  text: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** Bytes of the line including its newline (when it has one). */
  bytes: number;
  /** False only for a last line with no newline after it (e.g. torn by a crash mid-write). */
  terminated: boolean;
}

/** Counters of one scan, for tests and benchmarks: the work done must stay proportional to the file. */
export interface JsonlScanStats {
  /** `read` calls made on the file. */
  chunks: number;
  /** Bytes read from the file. */
  bytesRead: number;
  /** Bytes copied to join lines that straddle two or more chunks. */
  bytesCopied: number;
}

/** Where a scan starts: the byte offset of a line's first byte and the number of lines before it. */
export interface JsonlPosition {
  offset: number;
  line: number;
}

/** Options of the line scanners. */
export interface JsonlScanOptions {
  /** Bytes per `read` call. @defaultValue 1 MiB */
  chunkBytes?: number;
  stats?: JsonlScanStats;
  /** Start here instead of at the file's start (the offset must be a line start). @defaultValue the start */
  from?: JsonlPosition;
  /** Stop reading at this byte offset (a line end, exclusive). @defaultValue the end of the file */
  to?: number;
}

/**
 * The lines one read completed, as numbers rather than an object per line: line `i` is bytes
 * `bounds[2i]`..`bounds[2i + 1]` (its newline left out) of `buffer`, except that a first line
 * begun in earlier reads is all of `carried`. `buffer` is reused by the scan's next read.
 */
interface LineBatch {
  buffer: Buffer;
  bounds: number[];
  carried: Buffer | undefined;
  /** Number and file offset of the batch's first line. */
  firstLine: number;
  firstOffset: number;
  /** False only for a last line with no newline after it. */
  terminated: boolean;
}

/** Bytes read per `read` call. @defaultValue 1 MiB */
const CHUNK_BYTES = 1024 * 1024;

/**
 * The lines of a file, one batch per chunk read: each byte is read once and copied at most once
 * more (only for lines that straddle chunks), so time is linear and memory is one chunk plus the
 * longest line.
 */
async function* scanLineBatches(path: string, options: JsonlScanOptions): AsyncGenerator<LineBatch> {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const { stats, to = Infinity } = options;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(chunkBytes);
    let carried: Buffer[] = [];
    let carriedBytes = 0;
    let position = options.from?.offset ?? 0;
    let lineStart = position;
    let line = options.from?.line ?? 0;
    while (position < to) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkBytes, to - position), position);
      if (bytesRead === 0) break;
      if (stats) {
        stats.chunks++;
        stats.bytesRead += bytesRead;
      }
      const chunk = buffer.subarray(0, bytesRead);
      const batch: LineBatch = {
        buffer: chunk,
        bounds: [],
        carried: undefined,
        firstLine: line + 1,
        firstOffset: lineStart,
        terminated: true,
      };
      let start = 0;
      for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
        if (carried.length) {
          carried.push(chunk.subarray(start, end));
          batch.carried = Buffer.concat(carried);
          if (stats) stats.bytesCopied += end - start;
        }
        batch.bounds.push(start, end);
        line++;
        lineStart += carriedBytes + end - start + 1;
        carried = [];
        carriedBytes = 0;
        start = end + 1;
      }
      if (start < bytesRead) {
        // The buffer is reused by the next read: keep a copy of the unfinished line.
        carried.push(Buffer.from(chunk.subarray(start)));
        carriedBytes += bytesRead - start;
        if (stats) stats.bytesCopied += bytesRead - start;
      }
      position += bytesRead;
      if (batch.bounds.length) yield batch;
    }
    if (carriedBytes > 0) {
      const last = Buffer.concat(carried);
      yield { buffer: last, bounds: [0, last.length], carried: undefined, firstLine: line + 1, firstOffset: lineStart, terminated: false };
    }
  } finally {
    await handle.close();
  }
}

/** Calls `onLine` with each line of `batch`: its bytes are `source[start, end)`. */
function forEachLineOf(
  batch: LineBatch,
  onLine: (source: Buffer, start: number, end: number, line: number, offset: number) => void,
): void {
  let offset = batch.firstOffset;
  for (let index = 0; index < batch.bounds.length; index += 2) {
    const carried = index === 0 ? batch.carried : undefined;
    const source = carried ?? batch.buffer;
    const start = carried ? 0 : batch.bounds[index];
    const end = carried ? carried.length : batch.bounds[index + 1];
    onLine(source, start, end, batch.firstLine + index / 2, offset);
    offset += end - start + 1;
  }
}

/**
 * Streams the lines of a file in one pass (see `scanLineBatches`): linear time, memory bounded by
 * one chunk plus the longest line, whatever the file's size.
 */
export async function* scanJsonlLines(path: string, options: JsonlScanOptions = {}): AsyncGenerator<JsonlLine> {
  for await (const batch of scanLineBatches(path, options)) {
    // One string at a time, as the consumer asks: a chunk's lines are not all held at once.
    let offset = batch.firstOffset;
    for (let index = 0; index < batch.bounds.length; index += 2) {
      const carried = index === 0 ? batch.carried : undefined;
      const source = carried ?? batch.buffer;
      const start = carried ? 0 : batch.bounds[index];
      const end = carried ? carried.length : batch.bounds[index + 1];
      const bytes = end - start + (batch.terminated ? 1 : 0);
      const text = source.toString('utf8', start, end);
      yield { text, line: batch.firstLine + index / 2, offset, bytes, terminated: batch.terminated };
      offset += bytes;
    }
  }
}

/**
 * Calls `onLine` with the bytes of each line, `source[start, end)` without its newline (valid only
 * during the call): no object or string per line and one `await` per chunk, for the hot loop of
 * reading a large run back when a few bytes of each line are all that is needed.
 */
export async function forEachJsonlLineBytes(
  path: string,
  onLine: (source: Buffer, start: number, end: number) => void,
  options: JsonlScanOptions = {},
): Promise<void> {
  for await (const batch of scanLineBatches(path, options)) forEachLineOf(batch, onLine);
}

/** A validated record of a JSONL file with where it came from. */
export interface JsonlRecord<T> {
  value: T;
  line: JsonlLine;
}

/**
 * Streams the records of a JSONL file, validating each non-blank line with `schema`, in one
 * linear pass (see `scanJsonlLines`). An unterminated last line that is not JSON (a crash
 * mid-write) is passed over when `tolerateTornTail` is set; any other bad line is an
 * `InputError` naming file and line.
 */
export async function* streamJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  options: { tolerateTornTail?: boolean } & Pick<JsonlScanOptions, 'stats' | 'from'> = {},
): AsyncGenerator<JsonlRecord<T>> {
  for await (const line of scanJsonlLines(path, { stats: options.stats, from: options.from })) {
    const text = line.text.trim();
    if (!text) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (!line.terminated && options.tolerateTornTail) return;
      throw new InputError(`invalid JSON (${(error as Error).message})`, path, line.line);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`field "${issue.path.join('.')}": ${issue.message}`, path, line.line);
    }
    yield { value: parsed.data, line };
  }
}

/**
 * Reads a JSONL file and validates every line, in one linear pass. A torn last line (a crash
 * mid-write) is dropped when `tolerateTornTail` is set; any other bad line is an `InputError`
 * naming file and line. Holds every record: for files that grow with the run, use `streamJsonl`.
 */
export async function readJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  options: { tolerateTornTail?: boolean } = {},
): Promise<T[]> {
  const records: T[] = [];
  for await (const { value } of streamJsonl(path, schema, options)) records.push(value);
  return records;
}
