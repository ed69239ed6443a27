import { describe, expect, it } from 'vitest';
import { createBatchedContradictionCheck } from '../../src/personas/create-batched-contradiction-check.ts';
import { buildSimpleProfiles } from '../../src/personas/build-simple-profiles.ts';
import { createLlmContradictionCheck } from '../../src/personas/create-llm-contradiction-check.ts';
import { createRandom } from '../../src/util/create-random.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import type { Attribute } from '../../src/schemas/attribute.ts';

/** Says "contradicts" for a candidate about cats held against a profile about dogs; records every request. */
function judge(options: { brokenBatches?: boolean } = {}): LlmBackend & { calls: CompletionRequest[] } {
  const calls: CompletionRequest[] = [];
  const verdict = (profile: string, candidate: string) => ({
    rationale: 'r',
    contradicts: profile.includes('hate cats') && candidate.includes('cats'),
  });
  return {
    kind: 'fake',
    calls,
    modelFor: () => 'fake',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      calls.push(request);
      const content = request.messages[0].content;
      let reply: unknown;
      if (request.jsonSchema?.name === 'contradiction_checks') {
        const items = [
          ...content.matchAll(
            /<item id="(\d+)">\n<profile>\n([\s\S]*?)\n<\/profile>\n<candidate>\n([\s\S]*?)\n<\/candidate>/g,
          ),
        ];
        reply = options.brokenBatches
          ? { verdicts: {} }
          : { verdicts: Object.fromEntries(items.map((item) => [item[1], verdict(item[2], item[3])])) };
      } else {
        const profile = /<profile>\n([\s\S]*?)\n<\/profile>/.exec(content)![1];
        const candidate = /<candidate>\n([\s\S]*?)\n<\/candidate>/.exec(content)![1];
        reply = verdict(profile, candidate);
      }
      return {
        texts: [JSON.stringify(reply)],
        model: 'fake',
        usage: { promptTokens: 1, completionTokens: 1, calls: 1 },
      };
    },
    dispose: async () => {},
  };
}

const options = { temperature: 0, maxOutputTokens: 100, seed: 1 };

describe('createBatchedContradictionCheck', () => {
  it('asks the checks requested together in one call, and answers each caller its own verdict', async () => {
    const backend = judge();
    const check = createBatchedContradictionCheck(backend, { ...options, maxBatch: 8 });
    const answers = await Promise.all([
      check(['I hate cats.'], 'I have three cats.'),
      check(['I love dogs.'], 'I have three cats.'),
      check(['I hate cats.'], 'I ride a bike.'),
    ]);
    expect(answers).toEqual([true, false, false]);
    expect(backend.calls.map((call) => call.jsonSchema?.name)).toEqual(['contradiction_checks']);
  });

  it('splits at maxBatch and asks a lone check with the one-check prompt', async () => {
    const backend = judge();
    const check = createBatchedContradictionCheck(backend, { ...options, maxBatch: 2 });
    await Promise.all([check(['a'], 'b'), check(['c'], 'd'), check(['e'], 'f')]);
    expect(backend.calls.map((call) => call.jsonSchema?.name).sort()).toEqual([
      'contradiction_check',
      'contradiction_checks',
    ]);
  });

  it('asks again one check per call when a batch reply stays unusable, so no profile gets a wrong answer', async () => {
    const backend = judge({ brokenBatches: true });
    const check = createBatchedContradictionCheck(backend, { ...options, maxBatch: 8 });
    const answers = await Promise.all([
      check(['I hate cats.'], 'I have three cats.'),
      check(['I love dogs.'], 'I have cats.'),
    ]);
    expect(answers).toEqual([true, false]);
    // The batch, its one repair, then one call per check.
    expect(
      backend.calls.map((call) => call.jsonSchema?.name).filter((name) => name === 'contradiction_check'),
    ).toHaveLength(2);
  });

  it('builds the same profiles as one check per call, in fewer calls', async () => {
    const attributes: Attribute[] = Array.from({ length: 60 }, (_, position) => ({
      id: `a-${position}`,
      category: `c${position % 12}`,
      text:
        position % 5 === 0
          ? `I hate cats number ${position}.`
          : position % 7 === 0
            ? `I have cats called ${position}.`
            : `I collect item ${position} of kind ${position * 7}.`,
    }));
    const build = async (backend: LlmBackend, batch: number) =>
      buildSimpleProfiles(
        { attributes, count: 12, attributesPerProfile: 5, nearDuplicateThreshold: 0.6, concurrency: 8 },
        {
          random: createRandom(3),
          checkContradiction:
            batch === 1
              ? createLlmContradictionCheck(backend, options)
              : createBatchedContradictionCheck(backend, { ...options, maxBatch: batch }),
        },
      );
    const single = judge();
    const batched = judge();
    const expected = await build(single, 1);
    const actual = await build(batched, 8);
    expect(actual.profiles).toEqual(expected.profiles);
    expect(batched.calls.length).toBeLessThan(single.calls.length / 3);
  });
});
