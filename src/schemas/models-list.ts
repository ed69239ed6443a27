import { z } from 'zod';

/** A context length as servers publish it: a positive integer; anything else counts as absent. */
const publishedTokens = z.number().int().positive().optional().catch(undefined);

/**
 * One entry of an OpenAI-compatible `GET /models` list, with the fields in which servers publish
 * the model's context length (prompt + reply tokens). Other fields are kept and ignored.
 */
export const ModelEntrySchema = z.looseObject({
  id: z.string(),
  /** vLLM and SGLang: the context the server was started with (`--max-model-len`). */
  max_model_len: publishedTokens,
  /** OpenRouter, Together, LM Studio (`/api/v0/models`), DeepInfra. */
  context_length: publishedTokens,
  /** Mistral, LM Studio (`/api/v0/models`): the model's largest context. */
  max_context_length: publishedTokens,
  /** Groq. */
  context_window: publishedTokens,
  /** llama-server (llama.cpp): `n_ctx_train` is the model's training context; `n_ctx` where a server reports its own. */
  meta: z.looseObject({ n_ctx: publishedTokens, n_ctx_train: publishedTokens }).optional().catch(undefined),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

/** The `GET /models` list; entries that do not parse are dropped, not fatal. */
export const ModelsListSchema = z.object({
  data: z.array(z.unknown()).transform((entries) =>
    entries.flatMap((entry) => {
      const parsed = ModelEntrySchema.safeParse(entry);
      return parsed.success ? [parsed.data] : [];
    }),
  ),
});
