import { constants } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Append-only JSONL file with one writer: every `append` is written and fsynced before it resolves. */
export interface JsonlSink {
  readonly path: string;
  /** Bytes of the file on disk: its size when opened plus every completed write since. */
  readonly size: number;
  /** Records written (and on disk) since the sink was opened. */
  readonly recordsWritten: number;
  append(records: readonly unknown[]): Promise<void>;
  /** Resolves when every append so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Where the platform has it (Linux, macOS), the file is opened with O_DSYNC: each write returns
 * once its data is on disk, one system call (and one thread-pool round trip) instead of a write
 * and an fsync. Elsewhere every write is followed by an fsync.
 */
const SYNC_FLAG: number | undefined = constants.O_DSYNC;

/**
 * Opens (creating directories) a JSONL file for appending. Group commit: appends made while a
 * durable write is running are written together by the next one, in call order, so concurrent
 * pairs share one instead of queueing one each; every append still resolves only once its
 * lines are on disk, and lines of different appends never interleave.
 */
export async function openJsonlSink(path: string): Promise<JsonlSink> {
  await mkdir(dirname(path), { recursive: true });
  const handle: FileHandle = await open(
    path,
    SYNC_FLAG === undefined ? 'a' : constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | SYNC_FLAG,
  );
  let size = (await handle.stat()).size;
  let recordsWritten = 0;
  let pending: string[] = [];
  let pendingRecords = 0;
  let waiters: Waiter[] = [];
  let running: Promise<void> | undefined;
  let failure: unknown;

  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const data = Buffer.from(pending.join(''));
      const records = pendingRecords;
      const batch = waiters;
      pending = [];
      pendingRecords = 0;
      waiters = [];
      try {
        if (failure !== undefined) throw failure;
        // A short write (a full disk) is continued, so `size` is what the file holds.
        for (let written = 0; written < data.length; )
          written += (await handle.write(data, written)).bytesWritten;
        if (SYNC_FLAG === undefined) await handle.sync();
        size += data.length;
        recordsWritten += records;
        for (const waiter of batch) waiter.resolve();
      } catch (error) {
        // A failed write poisons the sink: later appends fail too instead of leaving a gap.
        failure ??= error;
        for (const waiter of batch) waiter.reject(error);
      }
    }
    running = undefined;
  }

  const sink: JsonlSink = {
    path,
    get size() {
      return size;
    },
    get recordsWritten() {
      return recordsWritten;
    },
    append(records) {
      if (records.length === 0) return sink.flush();
      let text = '';
      for (const record of records) text += `${JSON.stringify(record)}\n`;
      pending.push(text);
      pendingRecords += records.length;
      const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      running ??= drain();
      return done;
    },
    async flush() {
      while (running) await running;
      if (failure !== undefined) throw failure;
    },
    async close() {
      while (running) await running;
      await handle.close();
    },
  };
  return sink;
}
