import { describe, expect, it } from 'vitest';
import { chatCompletionReplySchema, isChatCompletionReply } from '../../src/schemas/openai-wire.ts';

const good = {
  id: 'x',
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
};

const samples: unknown[] = [
  good,
  { choices: [] },
  { choices: [{}] },
  { choices: [{ message: null }] },
  { choices: [{ message: { content: null } }], usage: null, model: null },
  { choices: [{ index: null, message: { content: 'a', tool_calls: [] } }], extra: { vendor: true } },
  { ...good, usage: { prompt_tokens: null } },
  null,
  'text',
  [],
  {},
  { choices: 'no' },
  { choices: [null] },
  { choices: [[]] },
  { choices: [{ index: 1.5 }] },
  { choices: [{ index: '0' }] },
  { choices: [{ message: 'hi' }] },
  { choices: [{ message: { content: 42 } }] },
  { choices: [{ message: { content: ['a'] } }] },
  { ...good, model: 7 },
  { ...good, usage: 'many' },
  { ...good, usage: { prompt_tokens: '3' } },
  { ...good, usage: { completion_tokens: Number.NaN } },
  { ...good, usage: [] },
];

describe('isChatCompletionReply', () => {
  it('agrees with chatCompletionReplySchema on accepted and rejected replies', () => {
    for (const sample of samples) {
      expect({ sample, fast: isChatCompletionReply(sample) }).toEqual({
        sample,
        fast: chatCompletionReplySchema.safeParse(sample).success,
      });
    }
    expect(samples.filter((sample) => isChatCompletionReply(sample)).length).toBeGreaterThan(4);
  });
});
