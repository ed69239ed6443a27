import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { checkGeneratorPromptFits } from '../../src/generation/check-generator-prompt-fits.ts';
import { fitGeneratorPrompt } from '../../src/generation/fit-generator-prompt.ts';
import { loadPromptTemplate } from '../../src/generation/load-prompt-template.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';
import { estimatePromptTokens, withContextLength } from '../../src/llm/with-context-length.ts';
import type { LlmBackend } from '../../src/llm/llm-backend.ts';
import { defaultSeedPaths } from '../../src/personas/load-seed-attributes.ts';
import { loadSeedConversations } from '../../src/personas/load-seed-conversations.ts';
import type { Pair } from '../../src/schemas/pair.ts';

const template = await loadPromptTemplate();
const pool = (await loadSeedConversations(defaultSeedPaths().conversations)).map((record, index) => ({
  ...record,
  score: index % 3,
}));
const pair: Pair = {
  id: 'p1',
  user1: { id: 'u1', attributes: ['I grow tomatoes.', 'I have two cats.'] },
  user2: { id: 'u2', attributes: ['I teach piano.', 'I run marathons.'] },
};
const input = { pair, examples: pool.slice(0, 5), targetMinTurns: 12, targetMaxTurns: 20 };
const counted: CompletionRequest[] = [];
const context = (contextTokens: number) => ({
  contextTokens,
  countPromptTokens: (request: CompletionRequest) => {
    counted.push(request);
    return estimatePromptTokens(request);
  },
});
const tokensWith = (count: number) =>
  estimatePromptTokens({
    role: 'generator',
    messages: fitGeneratorPrompt(template, { ...input, examples: input.examples.slice(0, count) }, {}, 0).messages,
  });

describe('fitGeneratorPrompt', () => {
  it('keeps every example when the backend publishes no context', () => {
    const fitted = fitGeneratorPrompt(template, input, {}, 1200);
    expect(fitted.examples).toHaveLength(5);
    expect(fitted).toMatchObject({ promptTokens: null, fits: true });
  });

  it('drops the lowest-ranked examples until prompt plus reply fit, keeping the order of the rest', () => {
    const limit = tokensWith(3) + 500;
    const fitted = fitGeneratorPrompt(template, input, context(limit), 500);
    expect(fitted.fits).toBe(true);
    expect(fitted.promptTokens! + 500).toBeLessThanOrEqual(limit);
    expect(fitted.examples.length).toBeGreaterThanOrEqual(2);
    expect(fitted.examples.length).toBeLessThan(5);
    // Scores of the first five seeds are 0,1,2,0,1: what is dropped never outranks what is kept.
    const dropped = input.examples.filter((example) => !fitted.examples.includes(example));
    expect(Math.max(...dropped.map((example) => example.score))).toBeLessThanOrEqual(
      Math.min(...fitted.examples.map((example) => example.score)),
    );
    expect(fitted.examples).toEqual(input.examples.filter((example) => fitted.examples.includes(example)));
    expect(fitted.messages[1].content).toContain(`Example ${fitted.examples.length}:`);
    expect(fitted.messages[1].content).not.toContain(`Example ${fitted.examples.length + 1}:`);
    expect(counted.at(-1)?.role).toBe('generator');
  });

  it('returns the zero-shot prompt marked as not fitting when nothing fits', () => {
    const fitted = fitGeneratorPrompt(template, input, context(100), 50);
    expect(fitted).toMatchObject({ examples: [], fits: false });
  });
});

describe('checkGeneratorPromptFits', () => {
  const settings = { fewShot: 5, maxOutputTokens: 1200, targetMinTurns: 12, targetMaxTurns: 20 };

  it("reports how many examples fit when the pool's largest are shown", () => {
    const check = checkGeneratorPromptFits(template, settings, context(8192), pool);
    expect(check.fewShotThatFit).toBe(5);
    const small = checkGeneratorPromptFits(template, settings, context(2048), pool);
    expect(small.fewShotThatFit).toBeLessThan(5);
    expect(small.contextTokens).toBe(2048);
  });

  it('stops with a ConfigError naming the context size and the settings that would fit', () => {
    const failure = (() => {
      try {
        checkGeneratorPromptFits(template, settings, context(1024), pool);
      } catch (error) {
        return error;
      }
    })() as ConfigError;
    expect(failure).toBeInstanceOf(ConfigError);
    expect(failure.message).toContain("model's context of 1024 tokens");
    expect(failure.message).toMatch(/llm\.max_output_tokens: \d+ or less/);
    expect(failure.message).toMatch(/a context of at least \d+ tokens/);
  });

  it('checks nothing on a backend without a known context', () => {
    expect(checkGeneratorPromptFits(template, settings, {}, pool)).toMatchObject({
      contextTokens: null,
      zeroShotPromptTokens: null,
      fewShotThatFit: 5,
    });
    expect(checkGeneratorPromptFits(template, settings, {}, pool).promptTokens).toBeGreaterThan(500);
  });
});

describe('withContextLength (endpoints: llm.context_length)', () => {
  const endpoint: LlmBackend = {
    kind: 'openai-compatible',
    modelFor: () => 'm',
    complete: async () => ({ texts: ['x'], model: 'm', usage: { promptTokens: 1, completionTokens: 1, calls: 1 } }),
    dispose: async () => {},
  };

  it('fits generator prompts to a configured context with the project estimate', () => {
    const fitted = fitGeneratorPrompt(template, input, withContextLength(endpoint, tokensWith(2) + 300), 300);
    expect(fitted.examples.length).toBeLessThanOrEqual(2);
    expect(fitted.fits).toBe(true);
  });

  it('leaves a backend unchanged without a context length, and rejects a bad one', () => {
    expect(withContextLength(endpoint, undefined)).toBe(endpoint);
    expect(() => withContextLength(endpoint, 0)).toThrow('Expected `contextTokens` to be a positive integer, got 0.');
  });
});
