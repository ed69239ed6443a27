import { CommanderError } from 'commander';
import { isAuthFailure } from './is-auth-failure.ts';
import { ConfigError, EndpointUnreachableError, InputError, StructuredOutputError, LlmError } from '../errors.ts';

/** Exit codes: 0 done, 1 failure, 2 bad input (flags, config, files, unreachable endpoint), 3 budget reached, 130 interrupted. */
export const EXIT_CODES = { ok: 0, failure: 1, badInput: 2, budgetExhausted: 3, interrupted: 130 } as const;

/** The single top-level error handler: prints one clear message (no stack for expected errors) and exits. */
export function handleCliError(error: unknown): never {
  if (error instanceof CommanderError) {
    // Commander already printed its message (and help for usage errors).
    process.exit(error.exitCode === 0 ? 0 : EXIT_CODES.badInput);
  }
  if (error instanceof Error && error.name === 'AbortError') {
    process.stderr.write('persona-forge: interrupted before any pair ran; nothing to resume yet.\n');
    process.exit(EXIT_CODES.interrupted);
  }
  const expected = [ConfigError, InputError, EndpointUnreachableError];
  if (expected.some((kind) => error instanceof kind) || (error as { exitCode?: number })?.exitCode === 2) {
    process.stderr.write(`persona-forge: ${(error as Error).message}\n`);
    process.exit(EXIT_CODES.badInput);
  }
  if (error instanceof StructuredOutputError) {
    process.stderr.write(
      `persona-forge: ${error.message}\nraw reply (first 500 chars): ${error.rawText.slice(0, 500)}\n`,
    );
    process.exit(EXIT_CODES.failure);
  }
  if (isAuthFailure(error) || (error instanceof LlmError && error.status === 404)) {
    // The endpoint refuses the key, or knows no such model or path: only the user can fix that (bad input).
    process.stderr.write(`persona-forge: ${error.message}\n`);
    process.exit(EXIT_CODES.badInput);
  }
  if (error instanceof LlmError) {
    process.stderr.write(
      `persona-forge: LLM request failed${error.status ? ` (HTTP ${error.status})` : ''}: ${error.message}\n`,
    );
    process.exit(EXIT_CODES.failure);
  }
  const fileError = error as NodeJS.ErrnoException;
  if (fileError instanceof Error && fileError.syscall && fileError.path && fileError.code) {
    // The file system refused mid-run (disk full, permissions changed): one line, no stack.
    process.stderr.write(
      `persona-forge: ${fileError.syscall} ${fileError.path} failed (${fileError.code}); free space or fix permissions, then continue with --resume\n`,
    );
    process.exit(EXIT_CODES.failure);
  }
  process.stderr.write(
    `persona-forge: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(EXIT_CODES.failure);
}
