import { ConfigError, EndpointUnreachableError, InputError, LlmError } from '../errors.ts';

/**
 * Errors only the user can fix (exit 2): bad flags, config or files, an endpoint that cannot be
 * reached, refuses the key (HTTP 401/403) or does not know the model or path (HTTP 404).
 */
export function isBadInput(error: unknown): boolean {
  if (error instanceof ConfigError || error instanceof InputError || error instanceof EndpointUnreachableError)
    return true;
  if (error instanceof LlmError) return error.status === 401 || error.status === 403 || error.status === 404;
  return (error as { exitCode?: number } | undefined)?.exitCode === 2;
}
