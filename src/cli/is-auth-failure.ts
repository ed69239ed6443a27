import { LlmError } from '../errors.ts';

/** 401/403: the endpoint refuses the key. The user has to act (exit 2); retrying cannot help. */
export function isAuthFailure(error: unknown): error is LlmError {
  return error instanceof LlmError && (error.status === 401 || error.status === 403);
}
