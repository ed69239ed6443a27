import { z } from 'zod';

/**
 * The parts of OpenAI-compatible replies persona-forge reads. Loose: servers add fields (vLLM,
 * llama.cpp, proxies) and those pass through untouched. A reply that fails these is "malformed".
 */
export const chatCompletionReplySchema = z.looseObject({
  model: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().nullish(),
      message: z.looseObject({ content: z.string().nullish() }).nullish(),
    }),
  ),
  usage: z
    .looseObject({
      prompt_tokens: z.number().nullish(),
      completion_tokens: z.number().nullish(),
      /** Provider prompt caching: `cached_tokens` of the prompt were served from the cache. */
      prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
    })
    .nullish(),
});
export type ChatCompletionReply = z.infer<typeof chatCompletionReplySchema>;

export const embeddingsReplySchema = z.looseObject({
  data: z.array(z.looseObject({ index: z.number().int(), embedding: z.array(z.number()) })),
});
export type EmbeddingsReply = z.infer<typeof embeddingsReplySchema>;

const isNullish = (value: unknown): value is null | undefined => value === null || value === undefined;
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isOptionalNumber = (value: unknown) => isNullish(value) || (typeof value === 'number' && Number.isFinite(value));

/**
 * The hot-path check of a chat completion reply: true only for values `chatCompletionReplySchema`
 * accepts (a test holds the two together), without building zod's result objects — that was ~6% of
 * a worker's CPU per call. Callers run the schema when this says false, for its error message.
 */
export function isChatCompletionReply(value: unknown): value is ChatCompletionReply {
  if (!isPlainObject(value) || !Array.isArray(value.choices)) return false;
  if (!isNullish(value.model) && typeof value.model !== 'string') return false;
  for (const choice of value.choices) {
    if (!isPlainObject(choice)) return false;
    if (!isNullish(choice.index) && !Number.isInteger(choice.index)) return false;
    const message = choice.message;
    if (isNullish(message)) continue;
    if (!isPlainObject(message)) return false;
    if (!isNullish(message.content) && typeof message.content !== 'string') return false;
  }
  const usage = value.usage;
  if (isNullish(usage)) return true;
  return isPlainObject(usage) && isOptionalNumber(usage.prompt_tokens) && isOptionalNumber(usage.completion_tokens);
}
