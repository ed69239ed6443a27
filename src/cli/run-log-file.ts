import { existsSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `<run>/run.log`: a log destination for pino that holds lines in memory until the run directory
 * exists (it is created only once the inputs are valid), then appends them and every later line
 * synchronously (log lines are few: events and progress steps). Lines of a run that never got a
 * directory are dropped on `close()`.
 */
export class RunLogFile {
  private descriptor: number | undefined;
  private pending: string[] = [];
  private closed = false;

  constructor(
    /** e.g. `output/<run id>/run.log`. */
    readonly path: string,
  ) {}

  write(line: string): void {
    if (this.closed) return;
    if (this.descriptor === undefined && !this.tryOpen()) {
      this.pending.push(line);
      return;
    }
    writeSync(this.descriptor!, line);
  }

  /** Writes what is pending if the run directory exists by now, and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.descriptor === undefined) this.tryOpen();
    this.closed = true;
    this.pending = [];
    if (this.descriptor !== undefined) closeSync(this.descriptor);
    this.descriptor = undefined;
  }

  private tryOpen(): boolean {
    const directory = dirname(this.path);
    if (!existsSync(directory)) return false;
    mkdirSync(directory, { recursive: true });
    this.descriptor = openSync(this.path, 'a');
    for (const line of this.pending) writeSync(this.descriptor, line);
    this.pending = [];
    return true;
  }
}
