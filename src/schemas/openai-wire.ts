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
    .looseObject({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() })
    .nullish(),
});
export type ChatCompletionReply = z.infer<typeof chatCompletionReplySchema>;

export const embeddingsReplySchema = z.looseObject({
  data: z.array(z.looseObject({ index: z.number().int(), embedding: z.array(z.number()) })),
});
export type EmbeddingsReply = z.infer<typeof embeddingsReplySchema>;

