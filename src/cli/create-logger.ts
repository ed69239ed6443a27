import pino, { type Logger } from 'pino';

/** Structured JSON logs on stderr (stdout stays for results). Secrets are redacted by path. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: ['api_key', '*.api_key', 'apiKey', '*.apiKey', 'password', '*.password'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}
