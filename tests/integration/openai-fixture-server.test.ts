import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { completeStructured } from '../../src/llm/complete-structured.ts';
import { LlmError } from '../../src/errors.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';
import { PairwiseReplySchema, filterReplySchema } from '../../src/schemas/critic.ts';
import { z } from 'zod';
import {
  startFixtureServer,
  type CandidateInfo,
  type FixtureServer,
  type FixtureServerOptions,
} from '../fixtures/openai-fixture-server.ts';

let fixture: FixtureServer | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function setup(serverOptions: FixtureServerOptions = {}, timeoutMs = 5_000) {
  fixture = await startFixtureServer(serverOptions);
  const backend = new OpenAiCompatibleBackend({
    baseUrl: fixture.baseUrl,
    generatorModel: 'g',
    criticModel: 'c',
    timeoutMs,
  });
  return { fixture, backend };
}

const TARGET = 'User 1 persona:\n- I love dogs.\n- I work at a bank.\nUser 2 persona:\n- I am a chef.\nConversation:';
const generatorRequest = (extra: Partial<CompletionRequest> = {}): CompletionRequest => ({
  role: 'generator',
  messages: [{ role: 'user', content: TARGET }],
  ...extra,
});

const pairwiseRequest = (first: string, second: string): CompletionRequest => ({
  role: 'critic',
  messages: [
    {
      role: 'user',
      content: `Which is better?\n<conversation id="A">\n${first}\n</conversation>\n<conversation id="B">\n${second}\n</conversation>`,
    },
  ],
});

describe('openai fixture server', () => {
  it('scripts candidate kinds by sample index (choice index for n, seed - baseSeed for separate calls)', async () => {
    const infos: CandidateInfo[] = [];
    const script = (info: CandidateInfo) => {
      infos.push(info);
      return (['normal', 'toxic', 'contradicting', 'short', 'garbage'] as const)[info.sampleIndex % 5];
    };
    const { backend, fixture } = await setup({ candidateScript: script, turnsPerConversation: 8 });
    const [normal, toxic, contradicting, short, garbage] = (
      await backend.complete(generatorRequest({ samples: 5, seed: 100 }))
    ).texts;
    expect(normal.split('\n')).toHaveLength(8);
    expect(normal).not.toMatch(/[[\]]/);
    expect(toxic).toContain('zztoxiczz');
    expect(contradicting).toContain('zzcontradictzz');
    expect(short.split('\n')).toHaveLength(2);
    expect(garbage).not.toMatch(/User [12]:/);
    expect(infos.map((info) => info.sampleIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(infos[0].pairText).toBe(TARGET);

    fixture.setOptions({ supportsN: false, baseSeed: 100 });
    const separate = new OpenAiCompatibleBackend({
      baseUrl: fixture.baseUrl,
      generatorModel: 'g',
      criticModel: 'c',
      samplesMode: 'separate',
    });
    const texts = (await separate.complete(generatorRequest({ samples: 3, seed: 100 }))).texts;
    expect(texts[0]).toBe(normal);
    expect(texts[1]).toContain('zztoxiczz');
    expect(texts[2]).toContain('zzcontradictzz');
  });

  it('judges pairwise by utterance count, and ties the same way in both orders', async () => {
    const { backend } = await setup();
    const ask = async (first: string, second: string) =>
      (await completeStructured(backend, pairwiseRequest(first, second), PairwiseReplySchema, 'pairwise_engagement'))
        .value.winner;
    const long = 'User 1: a\nUser 2: b\nUser 1: c';
    const shortOne = 'User 1: a\nUser 2: b';
    expect(await ask(long, shortOne)).toBe('A');
    expect(await ask(shortOne, long)).toBe('B');
    const left = 'User 1: hello\nUser 2: hi';
    const right = 'User 1: hey\nUser 2: yo';
    const forward = await ask(left, right);
    const backward = await ask(right, left);
    expect(forward === 'A' ? left : right).toBe(backward === 'A' ? right : left);
  });

  it('can always prefer the first-shown conversation (order flips become ties)', async () => {
    const { backend } = await setup({ pairwiseRule: 'first-shown' });
    const ask = async (first: string, second: string) =>
      (await completeStructured(backend, pairwiseRequest(first, second), PairwiseReplySchema, 'pairwise_engagement'))
        .value.winner;
    expect(await ask('User 1: a', 'User 1: a\nUser 2: b')).toBe('A');
    expect(await ask('User 1: a\nUser 2: b', 'User 1: a')).toBe('A');
  });

  it('answers filter critics and the contradiction check', async () => {
    const { backend } = await setup({
      contradictionPairs: [
        ['I love dogs', 'I am afraid of all animals'],
        ['I am tall', 'I am short'],
      ],
    });
    const faithful = await completeStructured(
      backend,
      {
        role: 'critic',
        messages: [{ role: 'user', content: '<conversation>\nUser 1: zzcontradictzz\n</conversation>' }],
      },
      filterReplySchema('contradicts'),
      'critic_faithfulness',
    );
    expect(faithful.value.contradicts).toBe(true);
    const other = await completeStructured(
      backend,
      { role: 'critic', messages: [{ role: 'user', content: '<conversation>\nUser 1: zztoxiczz\n</conversation>' }] },
      filterReplySchema('off_topic'),
      'critic_topic',
    );
    expect(other.value).toMatchObject({ off_topic: false, confidence: 0.9 });

    const ContradictionSchema = z.object({ contradicts: z.boolean(), rationale: z.string() });
    const check = async (profile: string, candidate: string) =>
      (
        await completeStructured(
          backend,
          {
            role: 'critic',
            messages: [
              { role: 'user', content: `<profile>\n${profile}\n</profile>\n<candidate>${candidate}</candidate>` },
            ],
          },
          ContradictionSchema,
          'contradiction_check',
        )
      ).value.contradicts;
    expect(await check('- I love dogs.\n- I cook.', 'I am afraid of all animals.')).toBe(true);
    expect(await check('- I am afraid of all animals.', 'I love dogs.')).toBe(true);
    expect(await check('- I love dogs.', 'I like cats.')).toBe(false);
  });

  it('injects faults deterministically by request index and lists models', async () => {
    const faults = { rate: 0.5, kinds: ['500' as const, '429' as const], seed: 3 };
    const runOnce = async () => {
      const { backend, fixture } = await setup({ faults });
      const outcomes: string[] = [];
      for (let index = 0; index < 12; index++) {
        const result = await backend.complete(generatorRequest()).catch((error: LlmError) => String(error.status));
        outcomes.push(typeof result === 'string' ? result : 'ok');
      }
      const models = (await fetch(`${fixture.baseUrl}/models`).then((response) => response.json())) as {
        data: Array<{ id: string }>;
      };
      await fixture.close();
      return { outcomes, models };
    };
    const first = await runOnce();
    const second = await runOnce();
    fixture = undefined;
    expect(first.outcomes).toEqual(second.outcomes);
    expect(first.outcomes).toContain('ok');
    expect(first.outcomes.some((outcome) => outcome !== 'ok')).toBe(true);
    expect(first.models.data.map((model) => model.id)).toEqual(['fixture-generator', 'fixture-critic']);
  });

  it('closes promptly while a request hangs', async () => {
    const { backend, fixture } = await setup({ faults: { rate: 1, kinds: ['hang'] } }, 60_000);
    const pending = backend.complete(generatorRequest()).catch((error) => error);
    await expect.poll(() => fixture.stats.inFlight).toBe(1);
    const started = Date.now();
    await fixture.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(LlmError);
  });
});
