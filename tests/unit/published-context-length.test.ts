import { describe, expect, it } from 'vitest';
import { publishedContextLength } from '../../src/llm/published-context-length.ts';

const list = (...entries: object[]) => ({ object: 'list', data: entries });

describe('publishedContextLength: the context length a GET /models entry publishes', () => {
  it('reads the fields servers use', () => {
    expect(publishedContextLength(list({ id: 'm', max_model_len: 8192 }), ['m'])).toBe(8192); // vLLM
    expect(publishedContextLength(list({ id: 'm', context_length: 131072 }), ['m'])).toBe(131072); // OpenRouter
    expect(publishedContextLength(list({ id: 'm', max_context_length: 32768 }), ['m'])).toBe(32768); // Mistral
    expect(publishedContextLength(list({ id: 'm', context_window: 8192 }), ['m'])).toBe(8192); // Groq
    expect(publishedContextLength(list({ id: 'm', meta: { n_ctx_train: 2048, n_vocab: 5 } }), ['m'])).toBe(2048); // llama-server
  });

  it("takes the configured models' entries only, and the smaller of generator and critic", () => {
    const body = list(
      { id: 'big', max_model_len: 32768 },
      { id: 'small', max_model_len: 4096 },
      { id: 'other', max_model_len: 512 },
    );
    expect(publishedContextLength(body, ['big'])).toBe(32768);
    expect(publishedContextLength(body, ['big', 'small'])).toBe(4096);
    expect(publishedContextLength(body, ['unlisted'])).toBeUndefined();
  });

  it('ignores what is not a length or not a list, without throwing', () => {
    expect(publishedContextLength(list({ id: 'm', max_model_len: 'lots' }, { id: 'm' }), ['m'])).toBeUndefined();
    expect(publishedContextLength(list({ id: 'm', max_model_len: -1, context_length: 4096 }), ['m'])).toBe(4096);
    expect(publishedContextLength(list({ id: 'm', meta: 'x', context_window: 0 }), ['m'])).toBeUndefined();
    expect(publishedContextLength(list({ no: 'id' }, { id: 'm', context_length: 2048 }), ['m'])).toBe(2048);
    expect(publishedContextLength({ models: [] }, ['m'])).toBeUndefined();
    expect(publishedContextLength('not json', ['m'])).toBeUndefined();
  });
});
