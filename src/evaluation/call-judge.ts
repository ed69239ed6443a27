import type { z } from 'zod';
import { completeStructured } from '../llm/complete-structured.ts';
import { EndpointUnreachableError, LlmError } from '../errors.ts';
import type { ChatMessage, LlmBackend } from '../llm/llm-backend.ts';

/** Sampling settings of judge calls. */
export interface JudgeCallSettings {
  /** Sampling temperature of the judge. @defaultValue 0 (repeatable verdicts) */
  temperature?: number;
  /** Maximum output tokens of one judge reply. @defaultValue 800 */
  maxOutputTokens?: number;
  /** Sampling seed sent to endpoints that honour it. */
  seed?: number;
}

/** Token usage summed over judge calls. */
export interface JudgeUsage {
  prompt_tokens: number;
  completion_tokens: number;
  calls: number;
}

export const emptyJudgeUsage = (): JudgeUsage => ({ prompt_tokens: 0, completion_tokens: 0, calls: 0 });

/**
 * One structured judge call (role `critic`), adding its usage to `usage`. Errors propagate; the
 * protocols turn them into failed trials unless `isFatalJudgeError` says nothing else can work.
 */
export async function callJudge<T>(
  backend: LlmBackend,
  messages: ChatMessage[],
  schema: z.ZodType<T>,
  schemaName: string,
  settings: JudgeCallSettings,
  usage: JudgeUsage,
): Promise<{ value: T; rawText: string }> {
  const result = await completeStructured(
    backend,
    {
      role: 'critic',
      messages,
      temperature: settings.temperature ?? 0,
      maxOutputTokens: settings.maxOutputTokens ?? 800,
      seed: settings.seed,
    },
    schema,
    schemaName,
  );
  usage.prompt_tokens += result.usage.promptTokens;
  usage.completion_tokens += result.usage.completionTokens;
  usage.calls += result.usage.calls;
  return { value: result.value, rawText: result.rawText };
}

/**
 * Errors after which every further judge call would fail the same way: an unreachable endpoint,
 * or a 400/401/403/404 (bad key, unknown model, malformed request). Other errors (a reply that did
 * not validate, 429/5xx after the HTTP retries) fail only their trial.
 */
export function isFatalJudgeError(error: unknown): boolean {
  if (error instanceof EndpointUnreachableError) return true;
  if (error instanceof LlmError && error.status !== undefined) return [400, 401, 403, 404].includes(error.status);
  return !(error instanceof LlmError);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
