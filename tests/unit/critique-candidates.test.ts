import { describe, expect, it } from 'vitest';
import { critiqueCandidates, type CritiqueCandidate } from '../../src/critique/critique-candidates.ts';
import { runFilterCritic } from '../../src/critique/run-filter-critic.ts';
import { runPairwiseCritic } from '../../src/critique/run-pairwise-critic.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import { LlmError } from '../../src/errors.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import type { CriticDefinition } from '../../src/schemas/critic.ts';
import type { Pair } from '../../src/schemas/pair.ts';
import type { Turn } from '../../src/schemas/turn.ts';

type Answer = (request: CompletionRequest) => unknown;

/** Test double of the LLM port: records every request and answers by JSON schema name. */
function fakeBackend(answers: Record<string, Answer>): LlmBackend & { calls: CompletionRequest[] } {
  const calls: CompletionRequest[] = [];
  return {
    kind: 'fake',
    calls,
    modelFor: () => 'fake-model',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      calls.push(request);
      const name = request.jsonSchema?.name ?? '(none)';
      const answer = answers[name];
      if (!answer) throw new Error(`fake backend: no answer for schema ${name}`);
      const reply = answer(request);
      if (reply instanceof Error) throw reply;
      const text = typeof reply === 'string' ? reply : JSON.stringify(reply);
      return { texts: [text], model: 'fake-model', usage: { promptTokens: 10, completionTokens: 5, calls: 1 } };
    },
    dispose: async () => {},
  };
}

/** The candidate index shown in a `<conversation ...>` block of the request (each take says its number). */
function takeIn(request: CompletionRequest, id?: 'A' | 'B'): number {
  const open = id ? `<conversation id="${id}">` : '<conversation>';
  const body = request.messages[1].content.split(open)[1]?.split('</conversation>')[0] ?? '';
  const match = body.match(/take (\d+)/);
  if (!match) throw new Error(`no take in conversation ${id ?? ''}`);
  return Number(match[1]);
}

const filterPass =
  (confidence = 0.9): Answer =>
  () => ({ rationale: 'fine', contradicts: false, toxic: false, confidence });
/** A ranker preferring the candidate with the highest `score`. */
const prefer =
  (score: (index: number) => number): Answer =>
  (request) => ({
    rationale: 'compared',
    winner: score(takeIn(request, 'A')) >= score(takeIn(request, 'B')) ? 'A' : 'B',
  });
const RANKERS = ['depth', 'coherency', 'consistency', 'diversity', 'likability'];

function answersFor(overrides: Record<string, Answer> = {}, ranker: Answer = prefer((index) => index)) {
  return {
    critic_faithfulness: filterPass(),
    critic_toxicity: filterPass(),
    ...Object.fromEntries(RANKERS.map((name) => [`pairwise_${name}`, ranker])),
    ...overrides,
  };
}

const pair: Pair = {
  id: 'pair-1',
  user1: { id: 'p1', attributes: ['I have two dogs and a cat.', 'I work as a nurse.'] },
  user2: { id: 'p2', attributes: ['I play the guitar in a band.', 'My favorite food is sushi.'] },
};

function candidate(index: number, firstText?: string): CritiqueCandidate {
  const texts = [
    firstText ?? `Hi, this is take ${index}. Long shift at the hospital today.`,
    'That sounds tiring. Do you get a day off soon?',
    'Saturday. I will walk my pups by the lake.',
    'Nice, I will be rehearsing with my band.',
    'What kind of music do you play?',
    'Indie rock, mostly. Then we go out for rolls.',
  ];
  const turns: Turn[] = texts.map((text, position) => ({ speaker: position % 2 === 0 ? 'User 1' : 'User 2', text }));
  return { index, turns, rawText: turns.map((turn) => `${turn.speaker}: ${turn.text}`).join('\n') };
}

const options = { minTurns: 4, maxTurns: 30, temperature: 0, maxOutputTokens: 400, seed: 11 };
const builtinCritics = await loadCritics();

function critiqueWith(
  backend: LlmBackend,
  candidates: CritiqueCandidate[],
  critics: CriticDefinition[] = builtinCritics,
) {
  return critiqueCandidates({ pair, candidates }, { backend, critics, options });
}

function callsFor(backend: { calls: CompletionRequest[] }, prefix: string): CompletionRequest[] {
  return backend.calls.filter((request) => request.jsonSchema?.name.startsWith(prefix));
}

describe('critiqueCandidates', () => {
  it('ranks three survivors: 5 rankers × C(3,2) pairs × 2 orders, each comparison asked both ways', async () => {
    const backend = fakeBackend(answersFor());
    const result = await critiqueWith(backend, [candidate(0), candidate(1), candidate(2)]);

    expect(callsFor(backend, 'critic_')).toHaveLength(3 * 2);
    const pairwiseCalls = callsFor(backend, 'pairwise_');
    expect(pairwiseCalls).toHaveLength(5 * 3 * 2);
    const asked = pairwiseCalls.map(
      (request) => `${request.jsonSchema!.name}:${takeIn(request, 'A')}>${takeIn(request, 'B')}`,
    );
    expect(new Set(asked).size).toBe(30);
    for (const name of RANKERS) {
      for (const [a, b] of [
        [0, 1],
        [0, 2],
        [1, 2],
      ]) {
        expect(asked).toContain(`pairwise_${name}:${a}>${b}`);
        expect(asked).toContain(`pairwise_${name}:${b}>${a}`);
      }
    }
    for (const request of backend.calls) {
      expect(request).toMatchObject({ role: 'critic', temperature: 0, maxOutputTokens: 400, seed: 11 });
    }

    expect(result.winnerIndex).toBe(2);
    expect(result.records.map((record) => [record.index, record.status, record.copeland])).toEqual([
      [0, 'ranked', -2],
      [1, 'ranked', 0],
      [2, 'winner', 2],
    ]);
    expect(result.records[2].pairwise).toHaveLength(10);
    expect(result.records[2].pairwise[0]).toMatchObject({ kind: 'pairwise', winner: 2 });
    expect(result.records[2].filters.map((verdict) => verdict.critic)).toEqual([
      'lint_parse',
      'lint_turn_count',
      'lint_placeholder',
      'lint_verbatim_attribute',
      'lint_repetition',
      'faithfulness',
      'toxicity',
    ]);
    expect(result.reasons).toEqual({});
    expect(result.scores).toEqual({
      faithfulness: 0.9,
      toxicity: 0.9,
      depth: 2,
      coherency: 2,
      consistency: 2,
      diversity: 2,
      likability: 2,
      copeland: 2,
    });
  });

  it('never lets a filtered candidate win and skips the remaining filters and all rankers for it', async () => {
    const backend = fakeBackend(
      answersFor({
        critic_faithfulness: (request) => ({
          rationale: takeIn(request) === 2 ? 'User 1 says they hate dogs' : 'fine',
          contradicts: takeIn(request) === 2,
          confidence: 0.8,
        }),
      }),
    );
    const withPlaceholder = candidate(3, 'Hi [Name], this is take 3.');
    const result = await critiqueWith(backend, [candidate(0), candidate(1), candidate(2), withPlaceholder]);

    expect(result.winnerIndex).toBe(1);
    const byIndex = Object.fromEntries(result.records.map((record) => [record.index, record]));
    expect(byIndex[2]).toMatchObject({ status: 'filtered', filtered_by: 'faithfulness', copeland: null, pairwise: [] });
    expect(byIndex[3]).toMatchObject({ status: 'filtered', filtered_by: 'lint_placeholder', copeland: null });
    expect(byIndex[3].filters.every((verdict) => verdict.source === 'lint')).toBe(true);
    expect(result.reasons).toEqual({ faithfulness: 1, lint_placeholder: 1 });

    const seen = backend.calls.flatMap((request) =>
      request.jsonSchema!.name.startsWith('pairwise_')
        ? [takeIn(request, 'A'), takeIn(request, 'B')]
        : [takeIn(request)],
    );
    expect(seen).not.toContain(3);
    expect(
      callsFor(backend, 'critic_toxicity')
        .map((request) => takeIn(request))
        .sort(),
    ).toEqual([0, 1]);
    expect(callsFor(backend, 'pairwise_')).toHaveLength(5 * 2);
  });

  it('returns no winner, with the reasons, when every candidate is filtered', async () => {
    const backend = fakeBackend(
      answersFor({ critic_toxicity: () => ({ rationale: 'insults', toxic: true, confidence: 0.99 }) }),
    );
    const badTurns = candidate(1);
    badTurns.turns[1] = { ...badTurns.turns[1], speaker: 'User 1' };
    const result = await critiqueWith(backend, [candidate(0), badTurns, candidate(2)]);
    expect(result.winnerIndex).toBeNull();
    expect(result.records.every((record) => record.status === 'filtered')).toBe(true);
    expect(result.reasons).toEqual({ toxicity: 2, lint_parse: 1 });
    expect(result.scores).toEqual({});
    expect(callsFor(backend, 'pairwise_')).toHaveLength(0);
  });

  it('lets a single survivor win without comparisons', async () => {
    const backend = fakeBackend(answersFor());
    const result = await critiqueWith(backend, [{ ...candidate(0), turns: [], parseError: 'no turns' }, candidate(1)]);
    expect(result.winnerIndex).toBe(1);
    expect(result.records[1]).toMatchObject({ status: 'winner', copeland: 0, pairwise: [] });
    expect(callsFor(backend, 'pairwise_')).toHaveLength(0);
    expect(result.scores).toMatchObject({ depth: 0, copeland: 0 });
  });

  it('turns position-biased answers into ties and breaks the tie by filter confidence', async () => {
    const alwaysA: Answer = () => ({ rationale: 'the first one', winner: 'A' });
    const backend = fakeBackend(
      answersFor(
        { critic_faithfulness: (request) => filterPass(takeIn(request) === 1 ? 0.95 : 0.6)(request) },
        alwaysA,
      ),
    );
    const result = await critiqueWith(backend, [candidate(0), candidate(1)]);
    const verdict = result.records[0].pairwise[0];
    expect(verdict).toMatchObject({ a: 0, b: 1, winner: null, orderWinners: [0, 1] });
    expect(result.records.map((record) => record.copeland)).toEqual([0, 0]);
    expect(result.winnerIndex).toBe(1);
  });

  it('propagates LLM errors other than unusable replies', async () => {
    const backend = fakeBackend(answersFor({ critic_toxicity: () => new LlmError('HTTP 500', { status: 500 }) }));
    await expect(critiqueWith(backend, [candidate(0)])).rejects.toThrow('HTTP 500');
  });
});

describe('runFilterCritic / runPairwiseCritic', () => {
  const faithfulness = builtinCritics.find((critic) => critic.name === 'faithfulness')!;
  const depth = builtinCritics.find((critic) => critic.name === 'depth')!;
  const deps = (backend: LlmBackend) => ({ backend, options: { temperature: 0, maxOutputTokens: 100 } });
  const personas = { user1Persona: pair.user1.attributes, user2Persona: pair.user2.attributes };

  it('rejects when the verdict field equals reject_when, keeping rationale and confidence', async () => {
    const backend = fakeBackend({
      critic_faithfulness: () => ({ rationale: 'says no pets', contradicts: true, confidence: 0.7 }),
    });
    const verdict = await runFilterCritic(
      { critic: faithfulness, ...personas, turns: candidate(0).turns },
      deps(backend),
    );
    expect(verdict).toEqual({
      critic: 'faithfulness',
      kind: 'filter',
      source: 'llm',
      passed: false,
      confidence: 0.7,
      rationale: 'says no pets',
    });
    expect(backend.calls[0].messages[1].content).toContain('<conversation>\nUser 1: Hi, this is take 0.');
  });

  it('records an unusable filter reply as passed with confidence 0 after the repair and re-asks', async () => {
    const backend = fakeBackend({ critic_faithfulness: () => 'I think it is fine.' });
    const verdict = await runFilterCritic(
      { critic: faithfulness, ...personas, turns: candidate(0).turns },
      deps(backend),
    );
    // Each ask gets one repair; completeStructured re-asks an unusable reply as its policy says.
    expect(backend.calls.length).toBeGreaterThanOrEqual(2);
    expect(backend.calls.length % 2).toBe(0);
    expect(verdict.passed).toBe(true);
    expect(verdict.confidence).toBe(0);
    expect(verdict.rationale).toMatch(/^critic reply unusable: /);
  });

  it('makes a comparison with an unusable reply a tie and keeps the other order', async () => {
    const backend = fakeBackend({
      pairwise_depth: (request) =>
        takeIn(request, 'A') === 0 ? { rationale: 'A deeper', winner: 'A' } : '{"winner": "C"}',
    });
    const verdict = await runPairwiseCritic(
      { critic: depth, ...personas, a: candidate(0), b: candidate(1) },
      deps(backend),
    );
    expect(verdict).toMatchObject({ critic: 'depth', a: 0, b: 1, winner: null, orderWinners: [0, null] });
    expect(verdict.rationale).toContain('critic reply unusable');
  });

  it('awards the comparison when both orders agree', async () => {
    const backend = fakeBackend({ pairwise_depth: prefer((index) => -index) });
    const verdict = await runPairwiseCritic(
      { critic: depth, ...personas, a: candidate(4), b: candidate(2) },
      deps(backend),
    );
    expect(verdict).toMatchObject({ a: 4, b: 2, winner: 2, orderWinners: [2, 2] });
    expect(backend.calls.map((request) => [takeIn(request, 'A'), takeIn(request, 'B')])).toEqual([
      [4, 2],
      [2, 4],
    ]);
  });
});
