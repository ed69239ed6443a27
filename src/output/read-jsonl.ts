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

/** Bytes read per `read` call. @defaultValue 1 MiB */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Streams the lines of a file in one pass: each byte is read once and copied at most once more
 * (only for lines that straddle chunks), so time is linear and memory is one chunk plus the
 * longest line, whatever the file's size.
 */
export async function* scanJsonlLines(
  path: string,
  options: { chunkBytes?: number; stats?: JsonlScanStats } = {},
): AsyncGenerator<JsonlLine> {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const stats = options.stats;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(chunkBytes);
    let carried: Buffer[] = [];
    let carriedBytes = 0;
    let position = 0;
    let lineStart = 0;
    let line = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
      if (bytesRead === 0) break;
      if (stats) {
        stats.chunks++;
        stats.bytesRead += bytesRead;
      }
      const chunk = buffer.subarray(0, bytesRead);
      let start = 0;
      for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, end);
        let text: string;
        if (carried.length) {
          carried.push(piece);
          text = Buffer.concat(carried).toString('utf8');
          if (stats) stats.bytesCopied += piece.length;
        } else text = piece.toString('utf8');
        const bytes = carriedBytes + piece.length + 1;
        line++;
        yield { text, line, offset: lineStart, bytes, terminated: true };
        lineStart += bytes;
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
    }
    if (carriedBytes > 0) {
      line++;
      yield { text: Buffer.concat(carried).toString('utf8'), line, offset: lineStart, bytes: carriedBytes, terminated: false };
    }
  } finally {
    await handle.close();
  }
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
  options: { tolerateTornTail?: boolean; stats?: JsonlScanStats } = {},
): AsyncGenerator<JsonlRecord<T>> {
  for await (const line of scanJsonlLines(path, { stats: options.stats })) {
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
