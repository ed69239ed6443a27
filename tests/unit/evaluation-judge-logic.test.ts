import { describe, expect, it } from 'vitest';
import type { EvaluatedConversation } from '../../src/evaluation/compute-dataset-statistics.ts';
import { buildDetectionPrompt } from '../../src/evaluation/build-detection-prompt.ts';
import { buildFaithfulnessPrompt } from '../../src/evaluation/build-faithfulness-prompts.ts';
import type { FaithfulnessTrial } from '../../src/schemas/evaluation-result-schema.ts';
import { fillPrompt, loadJudgePrompts } from '../../src/evaluation/load-judge-prompts.ts';
import { pairWithReference } from '../../src/evaluation/pair-with-reference.ts';
import { assembleFaithfulnessItems, planFaithfulnessTrial } from '../../src/evaluation/plan-faithfulness-trial.ts';
import { sampleJudgeGroups } from '../../src/evaluation/sample-judge-groups.ts';
import { detectionOutcome, summarizeDetection } from '../../src/evaluation/summarize-detection.ts';
import { summarizeFaithfulness } from '../../src/evaluation/summarize-faithfulness.ts';
import { createRandom } from '../../src/util/create-random.ts';

const conversation = (
  id: string,
  iteration?: number,
  persona = ['I like tea.', 'I have a dog.', 'I run.', 'I sing.', 'I cook.'],
): EvaluatedConversation => ({
  id,
  iteration,
  user1_persona: persona.map((attribute) => `${attribute.slice(0, -1)} (${id}-1).`),
  user2_persona: persona.map((attribute) => `${attribute.slice(0, -1)} (${id}-2).`),
  turns: [
    { speaker: 'User 1', text: `hello from ${id}` },
    { speaker: 'User 2', text: 'hi' },
  ],
});

describe('AI-detection outcome (both-order agreement)', () => {
  it('needs the same pick in both orders', () => {
    expect(detectionOutcome(['ours', 'ours'])).toBe('lose');
    expect(detectionOutcome(['reference', 'reference'])).toBe('win');
    expect(detectionOutcome(['ours', 'reference'])).toBe('tie');
    expect(detectionOutcome(['reference', 'ours'])).toBe('tie');
    expect(detectionOutcome(['ours', null])).toBe('failed');
  });

  it('summarizes rates over completed trials only', () => {
    const trial = (outcome: 'lose' | 'win' | 'tie' | 'failed') => ({
      conversation_id: 'x',
      reference_id: 'y',
      iteration: 1,
      picks: [null, null] as [null, null],
      outcome,
      rationales: ['', ''] as [string, string],
      error: null,
    });
    const summary = summarizeDetection([trial('lose'), trial('win'), trial('win'), trial('tie'), trial('failed')]);
    expect(summary).toEqual({
      trials: 5,
      lose: 1,
      win: 2,
      tie: 1,
      failed: 1,
      lose_rate: 0.25,
      win_rate: 0.5,
      tie_rate: 0.25,
    });
    expect(summarizeDetection([]).lose_rate).toBeNull();
  });
});

describe('pairWithReference', () => {
  const ours = Array.from({ length: 7 }, (_, index) => conversation(`o${index}`));
  const reference = Array.from({ length: 3 }, (_, index) => conversation(`r${index}`));

  it('is deterministic for a seed and cycles through a permutation of the reference', () => {
    const first = pairWithReference(ours, reference, 1).map((entry) => entry.id);
    expect(pairWithReference(ours, reference, 1).map((entry) => entry.id)).toEqual(first);
    expect(new Set(first.slice(0, 3)).size).toBe(3); // each reference used once before any repeats
    expect(first.slice(3, 6)).toEqual(first.slice(0, 3));
    const seeds = new Set(
      Array.from({ length: 6 }, (_, seed) =>
        pairWithReference(ours, reference, seed)
          .map((entry) => entry.id)
          .join(),
      ),
    );
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('uses a reference conversation of the same persona pair when there is one', () => {
    const twin = {
      ...reference[1],
      user1_persona: ours[4].user1_persona.map((text) => text.toUpperCase()),
      user2_persona: ours[4].user2_persona,
    };
    expect(pairWithReference(ours, [reference[0], twin, reference[2]], 3)[4]).toBe(twin);
  });
});

describe('sampleJudgeGroups', () => {
  it('groups by iteration, samples without replacement and repeats for the same seed', () => {
    const dataset = [
      ...Array.from({ length: 10 }, (_, index) => conversation(`a${index}`, 2)),
      ...Array.from({ length: 3 }, (_, index) => conversation(`b${index}`, 1)),
    ];
    const groups = sampleJudgeGroups(dataset, 4, 7, 'test');
    expect(groups.map((group) => [group.iteration, group.conversations.length])).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(new Set(groups[1].conversations.map((entry) => entry.id)).size).toBe(4);
    expect(sampleJudgeGroups(dataset, 4, 7, 'test')).toEqual(groups);
    expect(sampleJudgeGroups([conversation('x')], 4, 7, 'test')).toEqual([
      { iteration: null, conversations: [conversation('x')] },
    ]);
  });
});

describe('faithfulness trial planning', () => {
  const target = conversation('t');
  const pool = [
    ...target.user1_persona,
    ...target.user2_persona,
    ...Array.from({ length: 30 }, (_, index) => `I am other person ${index}.`),
  ];

  it('takes 4 real attributes of one speaker, sources for the LLM distractors among them, and random ones from other profiles', () => {
    const plan = planFaithfulnessTrial(target, pool, createRandom(1));
    const persona = plan.speaker === 'User 1' ? target.user1_persona : target.user2_persona;
    expect(plan.real).toHaveLength(4);
    for (const attribute of plan.real) expect(persona).toContain(attribute);
    expect(plan.negateSources).toHaveLength(1);
    expect(plan.contradictSources).toHaveLength(1);
    expect(plan.negateSources[0]).not.toBe(plan.contradictSources[0]);
    expect(plan.real).toEqual(expect.arrayContaining([...plan.negateSources, ...plan.contradictSources]));
    expect(plan.random).toHaveLength(2);
    for (const attribute of [...plan.random, ...plan.spareRandom]) expect(attribute).toMatch(/^I am other person/);
    expect(planFaithfulnessTrial(target, pool, createRandom(1))).toEqual(plan);
  });

  it('assembles 8 shuffled items and replaces unusable LLM distractors by random ones', () => {
    const plan = planFaithfulnessTrial(target, pool, createRandom(2));
    const good = assembleFaithfulnessItems(
      plan,
      { negated: ['I do not like tea.'], contradicting: ['I hate every drink.'] },
      createRandom(3),
    );
    expect(good.fallbacks).toBe(0);
    expect(good.items.map((item) => item.kind).sort()).toEqual([
      'contradicting',
      'negated',
      'random',
      'random',
      'real',
      'real',
      'real',
      'real',
    ]);
    expect(good.items.find((item) => item.kind === 'negated')).toMatchObject({
      text: 'I do not like tea.',
      source: plan.negateSources[0],
    });
    // Empty and duplicate-of-a-real-attribute distractors fall back.
    const bad = assembleFaithfulnessItems(plan, { negated: [''], contradicting: [plan.real[0]] }, createRandom(3));
    expect(bad.fallbacks).toBe(2);
    expect(bad.items).toHaveLength(8);
    expect(bad.items.filter((item) => item.kind === 'random')).toHaveLength(4);
    expect(assembleFaithfulnessItems(plan, null, createRandom(3)).fallbacks).toBe(2);
  });
});

describe('summarizeFaithfulness', () => {
  it('computes precision of inferred and the share of real attributes contradicted', () => {
    const item = (
      kind: 'real' | 'negated' | 'random' | 'contradicting',
      label: 'inferred' | 'contradicted' | 'neither',
    ) => ({ text: `${kind} ${label}`, kind, source: null, label, rationale: '' });
    const trials: FaithfulnessTrial[] = [
      {
        conversation_id: 'a',
        iteration: 1,
        speaker: 'User 1',
        items: [
          item('real', 'inferred'),
          item('real', 'inferred'),
          item('real', 'contradicted'),
          item('real', 'neither'),
          item('negated', 'contradicted'),
          item('random', 'inferred'),
          item('random', 'neither'),
          item('contradicting', 'neither'),
        ],
        fallbacks: 0,
        error: null,
      },
      {
        conversation_id: 'b',
        iteration: 1,
        speaker: 'User 2',
        items: [item('real', 'inferred')],
        fallbacks: 0,
        error: 'LlmError: failed',
      },
    ];
    const summary = summarizeFaithfulness(trials);
    expect(summary).toMatchObject({
      trials: 2,
      failed: 1,
      attributes_judged: 8,
      inferred_precision: 2 / 3,
      real_inferred_rate: 0.5,
      real_contradicted_rate: 0.25,
      inferred_share: 3 / 8,
      contradicted_share: 2 / 8,
    });
    expect(summary.by_kind.real).toEqual({ inferred: 2, contradicted: 1, neither: 1 });
  });
});

describe('judge prompts', () => {
  it('load with their hashes and fill placeholders once', async () => {
    const prompts = await loadJudgePrompts();
    for (const prompt of Object.values(prompts)) expect(prompt.hash).toMatch(/^[0-9a-f]{12}$/);
    const filled = fillPrompt(prompts.faithfulness, {
      conversation: 'has {{speaker}} inside',
      speaker: 'User 2',
      statements: '1. x',
      count: '1',
    });
    expect(filled.user).toContain('has {{speaker}} inside');
    expect(filled.user).not.toMatch(/\{\{(conversation|statements|count)\}\}/);
  });

  it('show the first conversation as A and the second as B, each with its profiles', async () => {
    const prompts = await loadJudgePrompts();
    const [first, second] = [conversation('first'), conversation('second')];
    const [, user] = buildDetectionPrompt(prompts.aiDetection, first, second);
    const [sectionA, sectionB] = user.content.split('## Conversation B');
    expect(sectionA).toContain('hello from first');
    expect(sectionA).toContain(first.user1_persona[0]);
    expect(sectionB).toContain('hello from second');
    expect(sectionB).toContain(second.user2_persona[0]);
    const faithfulness = buildFaithfulnessPrompt(prompts.faithfulness, first, 'User 2', [
      { text: 'I like tea.', kind: 'real', source: null },
    ]);
    expect(faithfulness[1].content).toContain('1. I like tea.');
    expect(faithfulness[1].content).not.toContain(first.user1_persona[0]);
  });
});
