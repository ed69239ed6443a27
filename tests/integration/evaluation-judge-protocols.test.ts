import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvaluatedConversation } from '../../src/evaluation/compute-dataset-statistics.ts';
import { emptyJudgeUsage } from '../../src/evaluation/call-judge.ts';
import { evaluateDataset } from '../../src/evaluation/evaluate-dataset.ts';
import { EvaluationResultSchema } from '../../src/schemas/evaluation-result-schema.ts';
import { defaultJudgePromptsDirectory, loadJudgePrompts } from '../../src/evaluation/load-judge-prompts.ts';
import { runAiDetectionTest } from '../../src/evaluation/run-ai-detection-test.ts';
import { runFaithfulnessTest } from '../../src/evaluation/run-faithfulness-test.ts';
import { EndpointUnreachableError } from '../../src/errors.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { DEFAULT_RETRY_POLICY } from '../../src/llm/retry-policy.ts';
import { hashText } from '../../src/util/hash-text.ts';
import {
  startFixtureServer,
  type FixtureServer,
  type FixtureServerOptions,
} from '../fixtures/openai-fixture-server.ts';
import { createRunDirectory } from '../fixtures/evaluation/create-run-directory.ts';

let fixture: FixtureServer | undefined;
let directory: string | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  if (directory) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

async function setup(options: FixtureServerOptions) {
  fixture = await startFixtureServer(options);
  const backend = new OpenAiCompatibleBackend({
    baseUrl: fixture.baseUrl,
    generatorModel: 'unused',
    criticModel: 'fixture-judge',
  });
  return { fixture, backend };
}

const userMessage = (body: any): string =>
  String(body.messages.find((message: any) => message.role === 'user')?.content ?? '');

/** Ours: its first utterance carries a marker that tells the scripted judge how to behave. */
function ours(
  id: string,
  iteration: number,
  marker: string,
  extra: Partial<EvaluatedConversation> = {},
): EvaluatedConversation {
  return {
    id,
    iteration,
    user1_persona: [`I am user one of ${id}.`, 'I have a red bike.', 'I like jazz.', 'I grow tomatoes.'],
    user2_persona: [`I am user two of ${id}.`, 'I work at a bakery.', 'I have a cat.', 'I swim every morning.'],
    turns: [
      { speaker: 'User 1', text: `Hello! ${marker}` },
      { speaker: 'User 2', text: 'Hi, how are you?' },
      { speaker: 'User 1', text: 'Fine, thanks.' },
      { speaker: 'User 2', text: 'Great to hear.' },
    ],
    ...extra,
  };
}

function reference(index: number): EvaluatedConversation {
  return {
    id: `ref-${index}`,
    user1_persona: [`I am reference person ${index}.`, 'I like hiking.'],
    user2_persona: [`I am reference partner ${index}.`, 'I like cooking.'],
    turns: [
      { speaker: 'User 1', text: `hey there, reference talk ${index}` },
      { speaker: 'User 2', text: 'oh hi' },
    ],
  };
}

/**
 * Scripted AI-detection judge: `LOSE-x` conversations are named synthetic (wherever shown),
 * `WIN-x` ones never, `TIE-x` get "A" whatever is shown (position bias), `FAIL-x` get an
 * invalid answer (also on the repair call). Records where each marked conversation was shown.
 */
function detectionJudge(positions: Map<string, string[]>) {
  return (body: any) => {
    const message = userMessage(body);
    const [sectionA] = message.split('## Conversation B');
    const marker = /(LOSE|WIN|TIE|FAIL)-\d+/.exec(message)![0];
    const shownAs = sectionA.includes(marker) ? 'A' : 'B';
    // Repair calls repeat the prompt; record only first calls.
    if (!body.messages.some((entry: any) => entry.role === 'assistant'))
      positions.set(marker, [...(positions.get(marker) ?? []), shownAs]);
    const other = shownAs === 'A' ? 'B' : 'A';
    if (marker.startsWith('FAIL')) return { rationale: 'cannot decide', synthetic: 'C' };
    if (marker.startsWith('TIE')) return { rationale: 'the first one reads stiffly', synthetic: 'A' };
    return { rationale: `scripted ${marker}`, synthetic: marker.startsWith('LOSE') ? shownAs : other };
  };
}

describe('AI-detection test over HTTP with a scripted judge', () => {
  const dataset = [
    ...[0, 1, 2, 3].map((index) => ours(`a${index}`, 1, `LOSE-${index}`)),
    ...[4, 5].map((index) => ours(`a${index}`, 2, `WIN-${index}`)),
    ...[6, 7].map((index) => ours(`a${index}`, 2, `TIE-${index}`)),
    ours('a8', 3, 'LOSE-8'),
    ours('a9', 3, 'WIN-9'),
    ours('a10', 3, 'TIE-10'),
    ours('a11', 3, 'FAIL-11'),
  ];
  const references = Array.from({ length: 10 }, (_, index) => reference(index));

  it('asks both orders, scores lose / win / tie per iteration and turns order-dependent answers into ties', async () => {
    const positions = new Map<string, string[]>();
    const { fixture, backend } = await setup({ structuredResponders: { ai_detection: detectionJudge(positions) } });
    const prompts = await loadJudgePrompts();
    const usage = emptyJudgeUsage();
    const result = await runAiDetectionTest(
      dataset,
      references,
      { backend, prompt: prompts.aiDetection, usage },
      { seed: 3, samplesPerGroup: 50 },
    );

    expect(result.trials).toHaveLength(12);
    // Every trial showed ours first as A, then as B. The failed one stops after its first order,
    // which the retry policy asked again (each re-ask a first call, with a new seed) before giving up.
    for (const [marker, shown] of positions)
      expect(shown).toEqual(
        marker.startsWith('FAIL') ? Array(1 + DEFAULT_RETRY_POLICY.invalidJsonRetries).fill('A') : ['A', 'B'],
      );
    const outcome = (id: string) => result.trials.find((trial) => trial.conversation_id === id)!;
    expect(outcome('a0')).toMatchObject({ outcome: 'lose', picks: ['ours', 'ours'] });
    expect(outcome('a4')).toMatchObject({ outcome: 'win', picks: ['reference', 'reference'] });
    expect(outcome('a6')).toMatchObject({
      outcome: 'tie',
      picks: ['ours', 'reference'],
      rationales: ['the first one reads stiffly', 'the first one reads stiffly'],
    });
    expect(outcome('a11').outcome).toBe('failed');
    expect(outcome('a11').error).toMatch(/StructuredOutputError/);

    expect(
      result.by_iteration.map((group) => [
        group.iteration,
        group.summary.lose,
        group.summary.win,
        group.summary.tie,
        group.summary.failed,
      ]),
    ).toEqual([
      [1, 4, 0, 0, 0],
      [2, 0, 2, 2, 0],
      [3, 1, 1, 1, 1],
    ]);
    expect(result.by_iteration[2].summary.lose_rate).toBeCloseTo(1 / 3, 10);
    expect(result.overall).toMatchObject({ trials: 12, lose: 5, win: 3, tie: 3, failed: 1 });
    expect(result.overall.lose_rate).toBeCloseTo(5 / 11, 10);
    // 11 trials × 2 orders + the failed trial's first order: asked 1 + 3 times, each with its one repair.
    expect(fixture.stats.byKind.ai_detection).toBe(22 + 2 * (1 + DEFAULT_RETRY_POLICY.invalidJsonRetries));
    expect(usage.calls).toBe(22);
    // The judge sees both conversations with their profiles.
    const first = fixture.requests.find((request) => request.kind === 'ai_detection')!;
    expect(userMessage(first.body)).toContain('User 1 profile:');
    expect(
      fixture.requests.every((request) => request.kind !== 'ai_detection' || request.body.model === 'fixture-judge'),
    ).toBe(true);
  });

  it('pairs deterministically for a seed, and prefers a reference conversation of the same persona pair', async () => {
    const { backend } = await setup({ structuredResponders: { ai_detection: detectionJudge(new Map()) } });
    const prompts = await loadJudgePrompts();
    const samePair = {
      ...references[7],
      id: 'ref-same-pair',
      user1_persona: dataset[0].user1_persona,
      user2_persona: dataset[0].user2_persona,
    };
    const pool = [...references, samePair];
    const run = async (seed: number) =>
      (
        await runAiDetectionTest(
          dataset,
          pool,
          { backend, prompt: prompts.aiDetection, usage: emptyJudgeUsage() },
          { seed, samplesPerGroup: 3 },
        )
      ).trials.map((trial) => `${trial.conversation_id}->${trial.reference_id}:${trial.outcome}`);
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
    // 3 sampled per iteration; a0 is in iteration 1 (4 conversations), so it may or may not be sampled:
    const all = (
      await runAiDetectionTest(
        dataset,
        pool,
        { backend, prompt: prompts.aiDetection, usage: emptyJudgeUsage() },
        { seed: 9, samplesPerGroup: 50 },
      )
    ).trials;
    expect(all.find((trial) => trial.conversation_id === 'a0')!.reference_id).toBe('ref-same-pair');
    expect(new Set(all.map((trial) => trial.reference_id)).size).toBeGreaterThan(5);
  });

  it('stops with EndpointUnreachableError when the judge endpoint is down', async () => {
    const { fixture, backend } = await setup({});
    await fixture.close();
    const prompts = await loadJudgePrompts();
    await expect(
      runAiDetectionTest(
        dataset,
        references,
        { backend, prompt: prompts.aiDetection, usage: emptyJudgeUsage() },
        { seed: 1, samplesPerGroup: 2 },
      ),
    ).rejects.toBeInstanceOf(EndpointUnreachableError);
  });
});

/** Conversations that state each user's attributes, so the scripted judge can "infer" them. */
function faithfulConversation(id: string, iteration: number): EvaluatedConversation {
  const user1 = [
    `I own ${id} goldfish.`,
    `I drive a ${id} tractor.`,
    `I sing ${id} opera.`,
    `I knit ${id} scarves.`,
    'I like pizza.',
  ];
  const user2 = [`I paint ${id} murals.`, `I fly ${id} kites.`, `I read ${id} comics.`, `I ride ${id} horses.`];
  return {
    id,
    iteration,
    user1_persona: user1,
    user2_persona: user2,
    turns: [
      { speaker: 'User 1', text: `About me: ${user1.join(' ')}` },
      { speaker: 'User 2', text: `About me: ${user2.join(' ')}` },
    ],
  };
}

const NEGATED = 'It is false that ';
const CONTRADICTING = 'The opposite holds: ';

function parseList(section: string): string[] {
  return section
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('- '))
    .map((line) => line.slice(2));
}

/** Scripted judge: statements spoken in the conversation are inferred, made-up negations/contradictions contradicted, the rest neither. */
function faithfulnessJudge(body: any) {
  const message = userMessage(body);
  const conversation = message.slice(0, message.indexOf('Statements about'));
  const statements = [...message.slice(message.indexOf('Statements about')).matchAll(/^(\d+)\. (.*)$/gm)];
  return {
    judgments: statements.map(([, number, text]) => ({
      statement: Number(number),
      label:
        text.startsWith(NEGATED) || text.startsWith(CONTRADICTING)
          ? 'contradicted'
          : conversation.includes(text)
            ? 'inferred'
            : 'neither',
      rationale: `scripted for ${text}`,
    })),
  };
}

function distractorWriter(body: any) {
  const message = userMessage(body);
  const negate = parseList(message.slice(message.indexOf('Negate:'), message.indexOf('Contradict:')));
  const contradict = parseList(message.slice(message.indexOf('Contradict:')));
  // One conversation gets an unusable reply: its distractors fall back to random attributes.
  if (message.includes('f-broken')) return { negated: [], contradicting: [] };
  return {
    negated: negate.map((text) => `${NEGATED}${text}`),
    contradicting: contradict.map((text) => `${CONTRADICTING}${text}`),
  };
}

describe('faithfulness test over HTTP with a scripted judge', () => {
  it('shows 4 real + 4 distractors, maps the judge labels back to the shuffled statements and summarizes per iteration', async () => {
    const { fixture, backend } = await setup({
      structuredResponders: { faithfulness_judgment: faithfulnessJudge, faithfulness_distractors: distractorWriter },
    });
    const prompts = await loadJudgePrompts();
    const dataset = [1, 2, 3].flatMap((iteration) =>
      [0, 1, 2].map((index) => faithfulConversation(`f${iteration}${index}`, iteration)),
    );
    dataset.push({ ...faithfulConversation('f-broken', 3), id: 'f-broken' });
    const usage = emptyJudgeUsage();
    const result = await runFaithfulnessTest(
      dataset,
      { backend, judgePrompt: prompts.faithfulness, distractorPrompt: prompts.faithfulnessDistractors, usage },
      { seed: 4 },
    );

    expect(result.trials).toHaveLength(10);
    for (const trial of result.trials) {
      expect(trial.error).toBeNull();
      expect(trial.items).toHaveLength(8);
      const conversation = dataset.find((entry) => entry.id === trial.conversation_id)!;
      const persona = trial.speaker === 'User 1' ? conversation.user1_persona : conversation.user2_persona;
      const kinds = trial.items.map((item) => item.kind);
      expect(kinds.filter((kind) => kind === 'real')).toHaveLength(4);
      if (trial.conversation_id === 'f-broken') {
        expect(trial.fallbacks).toBe(2);
        expect(kinds.filter((kind) => kind === 'random')).toHaveLength(4);
      } else {
        expect(kinds.filter((kind) => kind === 'negated')).toHaveLength(1);
        expect(kinds.filter((kind) => kind === 'contradicting')).toHaveLength(1);
        expect(kinds.filter((kind) => kind === 'random')).toHaveLength(2);
      }
      for (const item of trial.items) {
        if (item.kind === 'real') expect(persona).toContain(item.text);
        if (item.kind === 'random')
          expect([...conversation.user1_persona, ...conversation.user2_persona]).not.toContain(item.text);
        if (item.kind === 'negated' || item.kind === 'contradicting') expect(persona).toContain(item.source);
        // The label the scripted judge gave to this statement's number came back to this item.
        const spoken = conversation.turns.map((turn) => turn.text).join('\n');
        const expected =
          item.text.startsWith(NEGATED) || item.text.startsWith(CONTRADICTING)
            ? 'contradicted'
            : spoken.includes(item.text)
              ? 'inferred'
              : 'neither';
        expect(item.label).toBe(expected);
        expect(item.rationale).toBe(`scripted for ${item.text}`);
      }
    }
    // Recompute the summary from the items.
    const items = result.trials.flatMap((trial) => trial.items);
    const inferred = items.filter((item) => item.label === 'inferred');
    const real = items.filter((item) => item.kind === 'real');
    expect(result.overall.attributes_judged).toBe(80);
    expect(result.overall.inferred_precision).toBeCloseTo(
      inferred.filter((item) => item.kind === 'real').length / inferred.length,
      10,
    );
    expect(result.overall.real_inferred_rate).toBe(1);
    expect(result.overall.real_contradicted_rate).toBe(0);
    expect(result.overall.contradicted_share).toBeCloseTo(
      items.filter((item) => item.label === 'contradicted').length / 80,
      10,
    );
    expect(result.overall.by_kind.negated).toEqual({ inferred: 0, contradicted: 9, neither: 0 });
    expect(result.by_iteration.map((group) => [group.iteration, group.summary.trials])).toEqual([
      [1, 3],
      [2, 3],
      [3, 4],
    ]);
    expect(real).toHaveLength(40);

    // The judge never sees the profiles: only the conversation and the numbered statements.
    const judgeRequest = fixture.requests.find((request) => request.kind === 'faithfulness_judgment')!;
    expect(userMessage(judgeRequest.body)).not.toMatch(/profile/i);
    expect(fixture.stats.byKind.faithfulness_judgment).toBe(10);
    expect(fixture.stats.byKind.faithfulness_distractors).toBe(10);
    expect(usage.calls).toBe(20);

    // Same seed, same trials.
    const again = await runFaithfulnessTest(
      dataset,
      {
        backend,
        judgePrompt: prompts.faithfulness,
        distractorPrompt: prompts.faithfulnessDistractors,
        usage: emptyJudgeUsage(),
      },
      { seed: 4 },
    );
    expect(again.trials).toEqual(result.trials);
  });
});

describe('evaluateDataset with the judge', () => {
  it('writes evaluation.json with per-iteration judge results and the prompt hashes', async () => {
    directory = await mkdtemp(join(tmpdir(), 'pf-evaluate-'));
    const run = await createRunDirectory(join(directory, 'run'), { iterations: 3, pairsPerIteration: 5 });
    const referencePath = join(directory, 'reference.jsonl');
    await writeFile(
      referencePath,
      Array.from({ length: 8 }, (_, index) => JSON.stringify(reference(index))).join('\n') + '\n',
    );
    // ai_detection is left to the fixture's default (a minimal valid object: always "A"): pure position bias, all ties.
    const { backend } = await setup({
      structuredResponders: { faithfulness_judgment: faithfulnessJudge, faithfulness_distractors: distractorWriter },
    });
    const { result, outputPath } = await evaluateDataset({
      input: run.dir,
      reference: referencePath,
      judge: { backend, seed: 2, samplesPerGroup: 2 },
    });

    expect(outputPath).toBe(join(run.dir, 'evaluation.json'));
    const stored = EvaluationResultSchema.parse(JSON.parse(readFileSync(outputPath, 'utf8')));
    expect(stored).toEqual(result);
    expect(result.dataset).toMatchObject({ kind: 'run', run_id: run.runId });
    expect(result.reference).toMatchObject({ kind: 'jsonl' });
    expect(result.statistics.dataset.conversations).toBe(run.rows.length);
    expect(result.statistics.reference!.conversations).toBe(8);
    expect(result.statistics.by_iteration.map((group) => group.iteration)).toEqual([1, 2, 3]);
    const judge = result.judge!;
    expect(judge.model).toBe('fixture-judge');
    expect(judge.ai_detection!.by_iteration.map((group) => group.summary.tie)).toEqual([2, 2, 2]);
    expect(judge.ai_detection!.overall.tie_rate).toBe(1);
    expect(judge.faithfulness!.by_iteration).toHaveLength(3);
    for (const name of ['ai-detection.md', 'faithfulness.md', 'faithfulness-distractors.md']) {
      expect(judge.prompt_hashes[name]).toBe(
        hashText(readFileSync(join(defaultJudgePromptsDirectory(), name), 'utf8')),
      );
    }
    expect(judge.usage.calls).toBe(6 * 2 + 6 * 2);
  });

  it('skips the AI-detection test without a reference and says why', async () => {
    directory = await mkdtemp(join(tmpdir(), 'pf-evaluate-'));
    const run = await createRunDirectory(join(directory, 'run'), { iterations: 1, pairsPerIteration: 3 });
    const { backend } = await setup({
      structuredResponders: { faithfulness_judgment: faithfulnessJudge, faithfulness_distractors: distractorWriter },
    });
    const { result } = await evaluateDataset({ input: run.dir, judge: { backend, samplesPerGroup: 1 } });
    expect(result.judge!.ai_detection).toBeNull();
    expect(result.judge!.ai_detection_skipped).toMatch(/no reference/);
    expect(result.judge!.faithfulness!.overall.trials).toBe(1);
  });
});
