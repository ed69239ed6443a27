import type { ChatMessage, JsonResponseFormat } from './llm-backend.ts';

/** How a backend asks for JSON: native schema, JSON mode, or only by instruction in the prompt. */
export type StructuredWireMode = 'json_schema' | 'json_object' | 'prompt';

/** The OpenAI `response_format` body field for the modes that have one. */
export type ResponseFormatBody =
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict: false } }
  | { type: 'json_object' };

/** The instruction line used by `json_object` and `prompt` modes (json_object needs "JSON" in the prompt). */
export function jsonInstruction(format: JsonResponseFormat): string {
  return `Reply with JSON only, matching JSON schema "${format.name}": ${JSON.stringify(format.schema)}`;
}

/**
 * Builds the request parts for structured output in `mode`: the `response_format` (absent in
 * prompt mode) and the messages, with the JSON instruction appended to the system message
 * (a system message is prepended when there is none) in json_object and prompt modes.
 */
export function buildResponseFormat(
  messages: readonly ChatMessage[],
  format: JsonResponseFormat,
  mode: StructuredWireMode,
): { responseFormat: ResponseFormatBody | undefined; messages: ChatMessage[] } {
  if (mode === 'json_schema') {
    return {
      responseFormat: { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: false } },
      messages: [...messages],
    };
  }
  const instruction = jsonInstruction(format);
  const systemIndex = messages.findIndex((message) => message.role === 'system');
  const withInstruction =
    systemIndex === -1
      ? [{ role: 'system' as const, content: instruction }, ...messages]
      : messages.map((message, index) =>
          index === systemIndex ? { ...message, content: `${message.content}\n\n${instruction}` } : message,
        );
  return { responseFormat: mode === 'json_object' ? { type: 'json_object' } : undefined, messages: withInstruction };
}
