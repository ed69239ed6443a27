import type { z } from 'zod';
import { completeStructured } from '../../llm/complete-structured.ts';
import { StructuredOutputError } from '../../errors.ts';
import type { ChatMessage, CompletionUsage, LlmBackend } from '../../llm/llm-backend.ts';

/**
 * One structured generator call of the expansion; its token usage is added to `usage`.
 * A reply that fails the schema even after the repair yields undefined; other errors are thrown.
 */
export async function askStructuredExpansionReply<T>(
  backend: LlmBackend,
  messages: ChatMessage[],
  schema: z.ZodType<T>,
  name: string,
  settings: { temperature: number; maxOutputTokens: number },
  usage: CompletionUsage,
): Promise<T | undefined> {
  try {
    const result = await completeStructured(
      backend,
      { role: 'generator', messages, temperature: settings.temperature, maxOutputTokens: settings.maxOutputTokens },
      schema,
      name,
    );
    usage.promptTokens += result.usage.promptTokens;
    usage.completionTokens += result.usage.completionTokens;
    usage.calls += result.usage.calls;
    return result.value;
  } catch (error) {
    if (error instanceof StructuredOutputError) return undefined;
    throw error;
  }
}
