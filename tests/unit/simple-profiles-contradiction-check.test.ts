import { describe, expect, it } from 'vitest';
import {
  buildContradictionCheckMessages,
  createLlmContradictionCheck,
} from '../../src/personas/create-llm-contradiction-check.ts';
import { buildSimpleProfiles } from '../../src/personas/build-simple-profiles.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import { createRandom } from '../../src/util/create-random.ts';
import type { Attribute } from '../../src/schemas/index.ts';

/** A backend double that answers with `reply(request)` and records every request. */
function fakeBackend(reply: (request: CompletionRequest) => string): LlmBackend & { requests: CompletionRequest[] } {
  const requests: CompletionRequest[] = [];
  return {
    kind: 'fake',
    requests,
    modelFor: () => 'fake-model',
    async complete(request): Promise<CompletionResult> {
      requests.push(request);
      return {
        texts: [reply(request)],
        model: 'fake-model',
        usage: { promptTokens: 10, completionTokens: 5, calls: 1 },
      };
    },
    dispose: async () => {},
  };
}

const options = { temperature: 0, maxOutputTokens: 200, seed: 3 };

describe('createLlmContradictionCheck', () => {
  it('asks the critic with the profile and candidate in tags and the contradiction_check schema', async () => {
    const backend = fakeBackend(() => '{"rationale":"Never left vs lived abroad.","contradicts":true}');
    const check = createLlmContradictionCheck(backend, options);
    const verdict = await check(
      ['I have never left my home country.', 'I am a nurse.'],
      'I lived in Japan for two years.',
    );
    expect(verdict).toBe(true);
    expect(backend.requests).toHaveLength(1);
    const [request] = backend.requests;
    expect(request).toMatchObject({ role: 'critic', temperature: 0, maxOutputTokens: 200, seed: 3 });
    expect(request.jsonSchema?.name).toBe('contradiction_check');
    const prompt = request.messages.map((message) => message.content).join('\n');
    expect(prompt).toContain('<profile>\n- I have never left my home country.\n- I am a nurse.\n</profile>');
    expect(prompt).toContain('<candidate>\nI lived in Japan for two years.\n</candidate>');
    expect(prompt).not.toMatch(/\{\{\w+\}\}/);
    expect(prompt).toMatch(/both directions/i);
  });

  it('returns false when the critic finds no contradiction', async () => {
    const backend = fakeBackend(() => '{"rationale":"Unrelated topics.","contradicts":false}');
    const check = createLlmContradictionCheck(backend, options);
    expect(await check(['I am a nurse.'], 'I have a parrot.')).toBe(false);
  });

  it('drives buildSimpleProfiles: a candidate the critic rejects never enters a profile', async () => {
    const planted = 'I have never owned any animal.';
    const attributes: Attribute[] = [
      { id: 'pets-1', category: 'pets', text: 'I have a parrot named Kiwi.' },
      { id: 'plant-1', category: 'history', text: planted },
      { id: 'jobs-1', category: 'jobs', text: 'I am a nurse.' },
      { id: 'food-1', category: 'food', text: 'I love spicy noodles.' },
    ];
    const backend = fakeBackend((request) => {
      const prompt = request.messages.map((message) => message.content).join('\n');
      const conflict = prompt.includes(planted) && prompt.includes('parrot');
      return JSON.stringify({ rationale: conflict ? 'parrot vs no animals' : 'fine', contradicts: conflict });
    });
    const { profiles, rejections } = await buildSimpleProfiles(
      { attributes, count: 20, attributesPerProfile: 3, nearDuplicateThreshold: 0.6 },
      { random: createRandom(2), checkContradiction: createLlmContradictionCheck(backend, options) },
    );
    for (const profile of profiles) {
      expect(profile.attributes.includes(planted) && profile.attributes.includes('I have a parrot named Kiwi.')).toBe(
        false,
      );
    }
    expect(rejections.contradiction).toBeGreaterThan(0);
  });

  it('renders the template placeholders', () => {
    const [message] = buildContradictionCheckMessages(
      'P:\n{{profile}}\nC: {{candidate}} / {{candidate}}',
      ['I a $&.', 'I b.'],
      ' I c. ',
    );
    expect(message).toEqual({ role: 'user', content: 'P:\n- I a $&.\n- I b.\nC: I c. / I c.' });
  });
});
