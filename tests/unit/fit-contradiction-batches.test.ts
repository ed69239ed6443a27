import { describe, expect, it } from 'vitest';
import { createBatchedContradictionCheck } from '../../src/personas/create-batched-contradiction-check.ts';
import { fitContradictionBatches, measureContradictionCall } from '../../src/personas/fit-contradiction-batches.ts';
import { checkContradictionCheckFits } from '../../src/personas/check-contradiction-check-fits.ts';
import { loadContradictionTemplates } from '../../src/personas/load-contradiction-templates.ts';
import { estimatePromptTokens } from '../../src/llm/with-context-length.ts';
import { ConfigError, ContextOverflowError } from '../../src/errors.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import type { Attribute } from '../../src/schemas/attribute.ts';

/**
 * A critic with a small context, counted like an endpoint with `llm.context_length`
 * (`estimatePromptTokens`). Like the local model it refuses (`ContextOverflowError`) a prompt that
 * fills the context; it records the prompt size and reply room of every call, and `refused` the
 * calls it refused. Verdict: a candidate about cats contradicts a profile that hates cats.
 */
function smallContextJudge(
  contextTokens: number,
  options: { overflowBatches?: boolean } = {},
): LlmBackend & {
  calls: Array<{ name: string; items: number; promptTokens: number; maxOutputTokens: number }>;
  refused: string[];
} {
  const calls: Array<{ name: string; items: number; promptTokens: number; maxOutputTokens: number }> = [];
  const refused: string[] = [];
  const verdict = (profile: string, candidate: string) => ({
    rationale: 'r',
    contradicts: profile.includes('hate cats') && candidate.includes('cats'),
  });
  return {
    kind: 'fake',
    calls,
    refused,
    contextTokens,
    countPromptTokens: estimatePromptTokens,
    modelFor: () => 'fake',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      const promptTokens = estimatePromptTokens(request);
      const name = request.jsonSchema?.name ?? '';
      const content = request.messages[0].content;
      if (promptTokens >= contextTokens || (options.overflowBatches && name === 'contradiction_checks')) {
        refused.push(name);
        throw new ContextOverflowError('prompt does not fit', contextTokens, promptTokens);
      }
      let reply: unknown;
      if (name === 'contradiction_checks') {
        const items = [
          ...content.matchAll(
            /<item id="(\d+)">\n<profile>\n([\s\S]*?)\n<\/profile>\n<candidate>\n([\s\S]*?)\n<\/candidate>/g,
          ),
        ];
        calls.push({ name, items: items.length, promptTokens, maxOutputTokens: request.maxOutputTokens ?? 0 });
        reply = { verdicts: Object.fromEntries(items.map((item) => [item[1], verdict(item[2], item[3])])) };
      } else {
        const profile = /<profile>\n([\s\S]*?)\n<\/profile>/.exec(content)![1];
        const candidate = /<candidate>\n([\s\S]*?)\n<\/candidate>/.exec(content)![1];
        calls.push({ name, items: 1, promptTokens, maxOutputTokens: request.maxOutputTokens ?? 0 });
        reply = verdict(profile, candidate);
      }
      return { texts: [JSON.stringify(reply)], model: 'fake', usage: { promptTokens, completionTokens: 1, calls: 1 } };
    },
    dispose: async () => {},
  };
}

const profile = (index: number) => [
  index % 2 === 0 ? 'I hate cats more than anything.' : 'I love dogs and walk them daily.',
  `I have worked as a carpenter in town number ${index} for twenty years.`,
  'I grew up on a farm with my grandparents and three cousins.',
];
const checks = Array.from({ length: 8 }, (_, index) => ({
  profile: profile(index),
  candidate: `I adopted two cats, ${index}.`,
}));
const maxOutputTokens = 60;

describe('fitContradictionBatches', async () => {
  const templates = await loadContradictionTemplates({});
  const prompts = { ...templates, maxOutputTokens };

  it('keeps maxBatch per call when the backend publishes no context', () => {
    const fitted = fitContradictionBatches(checks, prompts, {}, 3);
    expect(fitted.batches.map((batch) => batch.length)).toEqual([3, 3, 2]);
    expect(fitted.overContext).toEqual([]);
  });

  it('makes calls smaller on a small context, every call fitting, all checks kept in order', () => {
    const context = { contextTokens: 900, countPromptTokens: estimatePromptTokens };
    const fitted = fitContradictionBatches(checks, prompts, context, 8);
    const sizes = fitted.batches.map((batch) => batch.length);
    expect(Math.max(...sizes)).toBeLessThan(8);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(fitted.batches.flat()).toEqual(checks);
    expect(fitted.overContext).toEqual([]);
    // The same context without fitting would have asked all 8 in one call, which does not fit.
    const all = fitContradictionBatches(checks, prompts, {}, 8).batches[0];
    expect(all).toHaveLength(8);
  });

  it('returns a check that does not fit even alone instead of sending it', () => {
    const huge = { profile: ['I have a very long story. '.repeat(200)], candidate: 'I adopted two cats.' };
    const context = { contextTokens: 900, countPromptTokens: estimatePromptTokens };
    const fitted = fitContradictionBatches([checks[0], huge, checks[1]], prompts, context, 8);
    expect(fitted.overContext.map((item) => item.check)).toEqual([huge]);
    expect(fitted.overContext[0].size.promptTokens).toBeGreaterThan(900);
    expect(fitted.batches.flat()).toEqual([checks[0], checks[1]]);
  });
});

describe('createBatchedContradictionCheck on a small context', () => {
  const ask = (backend: LlmBackend, extra: { onOverContext?: () => void } = {}) =>
    createBatchedContradictionCheck(backend, { temperature: 0, maxOutputTokens, seed: 1, maxBatch: 8, ...extra });

  it('splits the 8 checks into calls whose prompt + reply room fit the context, and answers each', async () => {
    const backend = smallContextJudge(900);
    const check = ask(backend);
    const answers = await Promise.all(checks.map((item) => check(item.profile, item.candidate)));
    expect(answers).toEqual(checks.map((_, index) => index % 2 === 0));
    expect(backend.calls.length).toBeGreaterThan(1);
    expect(backend.calls.length).toBeLessThan(8);
    for (const call of backend.calls) expect(call.promptTokens + call.maxOutputTokens).toBeLessThanOrEqual(900);
    expect(backend.refused).toEqual([]);
    expect(backend.calls.reduce((sum, call) => sum + call.items, 0)).toBe(8);
  });

  it('goes down to one check per call when only one fits', async () => {
    const prompts = { ...(await loadContradictionTemplates({})), maxOutputTokens };
    const counted = { contextTokens: 100_000, countPromptTokens: estimatePromptTokens };
    const alone = measureContradictionCall(prompts, [checks[0]], counted);
    const two = measureContradictionCall(prompts, checks.slice(0, 2), counted);
    // Room for any one check, not for two.
    const contextTokens = alone.promptTokens! + maxOutputTokens + 5;
    expect(two.promptTokens! + two.maxOutputTokens).toBeGreaterThan(contextTokens);
    const backend = smallContextJudge(contextTokens);
    const check = ask(backend);
    const answers = await Promise.all(checks.slice(0, 4).map((item) => check(item.profile, item.candidate)));
    expect(answers).toEqual([true, false, true, false]);
    expect(backend.calls.map((call) => call.name)).toEqual(Array(4).fill('contradiction_check'));
    expect(backend.refused).toEqual([]);
  });

  it('rejects (and counts) a check that cannot fit even alone, without sending it; the others are answered', async () => {
    const backend = smallContextJudge(900);
    let overContext = 0;
    const check = ask(backend, { onOverContext: () => overContext++ });
    const answers = await Promise.all([
      check(profile(1), 'I adopted two cats.'),
      check(['I have a very long story. '.repeat(200)], 'I ride a bike.'),
    ]);
    expect(answers).toEqual([false, true]);
    expect(overContext).toBe(1);
    expect(backend.calls.map((call) => call.items)).toEqual([1]);
    expect(backend.refused).toEqual([]);
  });

  it('asks again one per call when a batch overflows, and rejects (counts) a single that overflows: never throws', async () => {
    const backend = smallContextJudge(900, { overflowBatches: true });
    let overContext = 0;
    const check = ask(backend, { onOverContext: () => overContext++ });
    const answers = await Promise.all(checks.slice(0, 3).map((item) => check(item.profile, item.candidate)));
    expect(answers).toEqual([true, false, true]);
    expect(backend.refused).toEqual(['contradiction_checks']);
    expect(backend.calls.map((call) => call.name)).toEqual(Array(3).fill('contradiction_check'));
    expect(overContext).toBe(0);

    // The model's context turns out smaller than it published (its own count is larger).
    const liar = { ...smallContextJudge(200), contextTokens: 900 };
    let lied = 0;
    const lone = ask(liar, { onOverContext: () => lied++ });
    await expect(lone(profile(1), 'I adopted two cats.')).resolves.toBe(true);
    expect(lied).toBe(1);
  });
});

describe('checkContradictionCheckFits', async () => {
  const prompts = { ...(await loadContradictionTemplates({})), maxOutputTokens };
  const attributes: Attribute[] = Array.from({ length: 12 }, (_, index) => ({
    id: `a-${index}`,
    category: `c${index % 6}`,
    text: `I have done thing number ${index} ${'every single day '.repeat(1 + (index % 3))}for years.`,
  }));
  const settings = { attributesPerProfile: 5, maxBatch: 8 };

  it('checks nothing without a published context', () => {
    expect(checkContradictionCheckFits(prompts, settings, {}, attributes)).toEqual({
      contextTokens: null,
      promptTokens: null,
      checksPerCallThatFit: 8,
    });
  });

  it('reports fewer checks per call than contradiction_batch on a small context', () => {
    const fit = checkContradictionCheckFits(
      prompts,
      settings,
      { contextTokens: 1000, countPromptTokens: estimatePromptTokens },
      attributes,
    );
    expect(fit.contextTokens).toBe(1000);
    expect(fit.checksPerCallThatFit).toBeGreaterThanOrEqual(1);
    expect(fit.checksPerCallThatFit).toBeLessThan(8);
    expect(fit.promptTokens! + maxOutputTokens).toBeLessThanOrEqual(1000);
  });

  it('is a ConfigError naming the context size when one check cannot fit', () => {
    const attempt = () =>
      checkContradictionCheckFits(
        prompts,
        settings,
        { contextTokens: 300, countPromptTokens: estimatePromptTokens },
        attributes,
      );
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/model's context of 300 tokens even with one check per call/);
    expect(attempt).toThrow(/profiles\.contradiction_check: false/);
    expect(attempt).toThrow(/a context of at least \d+ tokens/);
  });
});
