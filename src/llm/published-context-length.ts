import { ModelsListSchema, type ModelEntry } from '../schemas/models-list.ts';

/**
 * The context length (prompt + reply tokens) a model's `GET /models` entry publishes, read from the
 * first of the fields servers use: `max_model_len` (vLLM, SGLang), `context_length` (OpenRouter,
 * Together, LM Studio), `max_context_length` (Mistral, LM Studio), `context_window` (Groq),
 * `meta.n_ctx` then `meta.n_ctx_train` (llama-server). Undefined when the entry publishes none.
 */
export function contextLengthOfEntry(entry: ModelEntry): number | undefined {
  return (
    entry.max_model_len ??
    entry.context_length ??
    entry.max_context_length ??
    entry.context_window ??
    entry.meta?.n_ctx ??
    entry.meta?.n_ctx_train
  );
}

/**
 * The context length a `GET /models` body publishes for `modelIds` (generator and critic model):
 * the smallest published among their entries, since one length fits the prompts of both. Undefined
 * when the body is not a list, a model is not listed, or no listed entry publishes a length.
 */
export function publishedContextLength(body: unknown, modelIds: readonly string[]): number | undefined {
  const list = ModelsListSchema.safeParse(body);
  if (!list.success) return undefined;
  const lengths: number[] = [];
  for (const id of new Set(modelIds)) {
    const entry = list.data.data.find((candidate) => candidate.id === id);
    const length = entry && contextLengthOfEntry(entry);
    if (length !== undefined) lengths.push(length);
  }
  return lengths.length > 0 ? Math.min(...lengths) : undefined;
}
