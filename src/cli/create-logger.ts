import pino, { type Logger } from 'pino';
import type { RunLogFile } from './run-log-file.ts';

/** Where log lines go. */
export interface LogDestinations {
  /** Write JSON log lines to stderr. @defaultValue true */
  stderr?: boolean;
  /** Clear the terminal's live progress line before each stderr line (it is redrawn by the next update). @defaultValue false */
  clearLiveLine?: boolean;
  /** Also append every line to this run log. @defaultValue none */
  file?: RunLogFile;
}

/**
 * Where a command's logs go: in a terminal the screen belongs to the live line and the summary,
 * so logs go to stderr only when asked for with `--log-level`; without a terminal (CI, pipes,
 * containers) they go to stderr. The run log file gets them in every case.
 */
export function chooseLogDestinations(input: { terminal: boolean; logLevelGiven: boolean }): {
  stderr: boolean;
  liveLine: boolean;
} {
  return { stderr: !input.terminal || input.logLevelGiven, liveLine: input.terminal };
}

/** Structured JSON logs (stdout stays for results). Secrets are redacted by path. */
export function createLogger(level: string, destinations: LogDestinations = {}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (destinations.stderr ?? true) {
    const clear = destinations.clearLiveLine ? '\r\x1b[2K' : '';
    streams.push({
      level: level as pino.Level,
      stream: { write: (line: string) => process.stderr.write(clear + line) },
    });
  }
  if (destinations.file) streams.push({ level: level as pino.Level, stream: destinations.file });
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: ['api_key', '*.api_key', 'apiKey', '*.apiKey', 'password', '*.password'], censor: '[redacted]' },
    },
    pino.multistream(streams),
  );
}
