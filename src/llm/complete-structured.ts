import { z } from 'zod';
import type { ChatMessage, CompletionRequest, CompletionUsage, JsonResponseFormat, LlmBackend } from './llm-backend.ts';
import { StructuredOutputError } from '../errors.ts';
import { extractJson } from './extract-json.ts';
import { DEFAULT_RETRY_POLICY, retryWithPolicy, type RetryPolicy } from './retry-policy.ts';

/** A reply parsed and validated against a zod schema. */
export interface StructuredCompletion<T> {
  value: T;
  /** The raw text of the reply that validated (the repair reply when a repair was needed). */
  rawText: string;
  /** Usage summed over the first call and the repair call, if any. */
  usage: CompletionUsage;
}

type ParseOutcome<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/**
 * Asks `backend` for JSON matching `schema` (sent as `jsonSchema: { name, schema }`), extracts the
 * JSON from the reply, parses and validates it. On failure it makes exactly one repair call (the
 * conversation plus the bad reply and the list of problems). A reply still unusable after its
 * repair is a transient fault (`invalid_json`): the retry policy (`src/llm/retry-policy.ts`) asks
 * again, up to `invalidJsonRetries` times, with the seed moved on by one each time (so neither a
 * response cache nor a deterministic endpoint serves the same bad reply again) and `reaskOf` set
 * (so `retryBackend` counts it). Then it throws `StructuredOutputError` with the last raw text and
 * the issues. Backend errors (`LlmError`) propagate unchanged: the stack already retried them.
 *
 * @param name Schema name, letters/digits/`_`: `critic_<critic>`, `pairwise_<critic>`, `contradiction_check`.
 */
export async function completeStructured<T>(
  backend: LlmBackend,
  request: CompletionRequest,
  schema: z.ZodType<T>,
  name: string,
): Promise<StructuredCompletion<T>> {
  // Not `{ ...request, samples, jsonSchema }`: on Node 20's V8, adding keys to an object spread copy
  // takes a slow path (about 1.5 µs and 750 bytes per call, measured); Object.assign does not.
  const structuredRequest: CompletionRequest = Object.assign({}, request, {
    samples: 1,
    jsonSchema: responseFormatOf(schema, name),
  });
  const usage: CompletionUsage = { promptTokens: 0, completionTokens: 0, calls: 0 };
  let reasks = 0;
  return retryWithPolicy(
    () => {
      const asked =
        reasks === 0
          ? structuredRequest
          : Object.assign({}, structuredRequest, {
              seed: (request.seed ?? 0) + reasks,
              reaskOf: 'invalid_json' as const,
            });
      reasks += 1;
      return askWithRepair(backend, asked, request.messages, schema, name, usage);
    },
    STRUCTURED_REASK_POLICY,
    { signal: request.signal },
  );
}

/** The policy with only the re-asks after unusable replies: transport faults were retried below. */
const STRUCTURED_REASK_POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxRetries: 0 };

/** One ask plus at most one repair; adds to `usage`. */
async function askWithRepair<T>(
  backend: LlmBackend,
  structuredRequest: CompletionRequest,
  messages: ChatMessage[],
  schema: z.ZodType<T>,
  name: string,
  usage: CompletionUsage,
): Promise<StructuredCompletion<T>> {
  const first = await backend.complete(structuredRequest);
  const firstText = first.texts[0] ?? '';
  addCompletionUsage(usage, first.usage);
  const firstOutcome = parseStructured(firstText, schema);
  if (firstOutcome.ok) return { value: firstOutcome.value, rawText: firstText, usage };

  const repairMessages: ChatMessage[] = [
    ...messages,
    { role: 'assistant', content: firstText },
    { role: 'user', content: buildRepairPrompt(name, firstOutcome.issues) },
  ];
  const repair = await backend.complete(
    Object.assign({}, structuredRequest, { messages: repairMessages, reaskOf: undefined }),
  );
  const repairText = repair.texts[0] ?? '';
  addCompletionUsage(usage, repair.usage);
  const repairOutcome = parseStructured(repairText, schema);
  if (repairOutcome.ok) return { value: repairOutcome.value, rawText: repairText, usage };

  throw new StructuredOutputError(
    `Reply did not match JSON schema "${name}" after one repair attempt: ${repairOutcome.issues.join('; ')}`,
    repairText,
    repairOutcome.issues,
  );
}

function addCompletionUsage(target: CompletionUsage, source: CompletionUsage): void {
  target.promptTokens += source.promptTokens;
  target.completionTokens += source.completionTokens;
  target.calls += source.calls;
}

const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();
const responseFormats = new WeakMap<z.ZodType, Map<string, JsonResponseFormat>>();

/**
 * The response format sent for a zod schema under `name`: one object per (schema, name), so the
 * response cache key serializes it once (`responseCacheKeys` memoizes per object), not per call.
 * Treat the result as read-only.
 */
export function responseFormatOf(schema: z.ZodType, name: string): JsonResponseFormat {
  let byName = responseFormats.get(schema);
  if (!byName) responseFormats.set(schema, (byName = new Map()));
  let format = byName.get(name);
  if (!format) {
    format = { name, schema: jsonSchemaOf(schema) };
    byName.set(name, format);
  }
  return format;
}

/**
 * The JSON Schema sent for a zod schema, converted once per schema object (the conversion cost
 * more CPU than the rest of a critic call's bookkeeping). Treat the result as read-only.
 */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let jsonSchema = jsonSchemas.get(schema);
  if (!jsonSchema) {
    // `io: 'input'`: the model writes what the schema accepts (fields with defaults are optional).
    jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    jsonSchemas.set(schema, jsonSchema);
  }
  return jsonSchema;
}

/** Extracts, parses and validates one reply; never throws. */
export function parseStructured<T>(text: string, schema: z.ZodType<T>): ParseOutcome<T> {
  let data: unknown;
  try {
    data = JSON.parse(extractJson(text));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [`reply is not valid JSON (${reason})`] };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map(
      (issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
    ),
  };
}

function buildRepairPrompt(name: string, issues: string[]): string {
  return [
    `Your reply did not match JSON schema "${name}". Problems:`,
    ...issues.map((issue) => `- ${issue}`),
    'Reply with the corrected JSON only: one JSON object, no prose, no code fences.',
  ].join('\n');
}
