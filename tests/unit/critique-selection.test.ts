import { describe, expect, it } from 'vitest';
import { critiqueCandidates, type CritiqueCandidate } from '../../src/critique/critique-candidates.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import { loadCombinedPanel } from '../../src/critique/combined-panel-file.ts';
import { loadListwisePanel, parseListwisePanelFile } from '../../src/critique/listwise-panel-prompt.ts';
import { compareCandidates, isUncertainAnswer } from '../../src/critique/compare-candidates.ts';
import { runKnockout } from '../../src/critique/run-knockout.ts';
import { isFlagged, isSplit } from '../../src/critique/run-listwise-panel.ts';
import { parseFilterPanelFile } from '../../src/critique/filter-panel-prompt.ts';
import { resolveSelection, describeSelection, PAPER_SELECTION } from '../../src/critique/resolve-selection.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';
import { ConfigError, InputError } from '../../src/errors.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import type { PairwiseVerdict } from '../../src/schemas/critic.ts';
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
      const text = typeof reply === 'string' ? reply : JSON.stringify(reply);
      return { texts: [text], model: 'fake-model', usage: { promptTokens: 10, completionTokens: 5, calls: 1 } };
    },
    dispose: async () => {},
  };
}

const RANKERS = ['depth', 'coherency', 'consistency', 'diversity', 'likability'];
const pair: Pair = {
  id: 'pair-1',
  user1: { id: 'p1', attributes: ['I have two dogs and a cat.', 'I work as a nurse.'] },
  user2: { id: 'p2', attributes: ['I play the guitar in a band.', 'My favorite food is sushi.'] },
};
const options = { minTurns: 4, maxTurns: 30, temperature: 0, maxOutputTokens: 400, seed: 11 };

function candidate(index: number, marker = ''): CritiqueCandidate {
  const texts = [
    `Hi, this is take ${index}${marker}. Long shift at the hospital today.`,
    'That sounds tiring. Do you get a day off soon?',
    'Saturday. I will walk my pups by the lake.',
    'Nice, I will be rehearsing with my band.',
    'What kind of music do you play?',
    'Indie rock, mostly. Then we go out for rolls.',
  ];
  const turns: Turn[] = texts.map((text, position) => ({ speaker: position % 2 === 0 ? 'User 1' : 'User 2', text }));
  return { index, turns, rawText: turns.map((turn) => `${turn.speaker}: ${turn.text}`).join('\n') };
}

/** The takes shown in a request's conversation blocks, in shown order. */
function takesShown(request: CompletionRequest): number[] {
  return [...request.messages[1].content.matchAll(/<conversation[^>]*>\nUser 1: Hi, this is take (\d+)/g)].map(
    (match) => Number(match[1]),
  );
}

/** A listwise judge: every dimension scored by `score(take)`, checks flagged for takes marked "zzbad". */
const listwise =
  (score: (take: number) => number): Answer =>
  (request) => {
    const content = request.messages[1].content;
    const blocks = content.split('<conversation id="').slice(1);
    const folded = content.includes('Checks (answer each');
    return {
      rationale: 'scored',
      scores: Object.fromEntries(
        takesShown(request).map((take, position) => [
          String(position + 1),
          {
            ...Object.fromEntries(RANKERS.map((name) => [name, score(take)])),
            ...(folded && { contradicts: blocks[position].includes('zzbad'), toxic: false }),
          },
        ]),
      ),
    };
  };

describe('resolveSelection', () => {
  const critiqueOf = (critique: Record<string, unknown>) => RunConfigSchema.parse({ critique }).critique;

  it('defaults to listwise, second order when uncertain, filters folded (the bench-chosen scheme)', () => {
    expect(resolveSelection(critiqueOf({}))).toEqual({
      method: 'listwise',
      panel: 'combined',
      second_order: 'when-uncertain',
      filters: 'folded',
    });
    // Under --batch a second order asked after the first would wait for a second batch: both go in one.
    expect(resolveSelection(critiqueOf({}), { batch: true }).second_order).toBe('always');
    expect(resolveSelection(critiqueOf({ selection: 'knockout' }), { batch: true }).second_order).toBe(
      'when-uncertain',
    );
    expect(resolveSelection(critiqueOf({ second_order: 'always' }))).toMatchObject({
      method: 'listwise',
      second_order: 'always',
      filters: 'folded',
    });
    expect(resolveSelection(critiqueOf({ selection: 'knockout' }))).toMatchObject({
      panel: 'combined',
      second_order: 'when-uncertain',
      filters: 'separate',
    });
  });

  it('makes --selection round-robin the paper-faithful panel, one flag away', () => {
    expect(resolveSelection(critiqueOf({ selection: 'round-robin' }))).toEqual(PAPER_SELECTION);
    expect(describeSelection(PAPER_SELECTION)).toBe(
      'round-robin; panel per-expert; second order always; filters separate',
    );
  });

  it('keeps round robin for configs that only set critique.panel, as before selection schemes', () => {
    expect(resolveSelection(critiqueOf({ panel: 'combined' }))).toMatchObject({
      method: 'round-robin',
      panel: 'combined',
      second_order: 'always',
    });
  });

  it('rejects folded filters without listwise selection at config load, naming the key', () => {
    const parsed = RunConfigSchema.safeParse({ critique: { selection: 'knockout', filters: 'folded' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0].path).toEqual(['critique', 'filters']);
    expect(() => resolveSelection({ ...critiqueOf({}), selection: 'knockout', filters: 'folded' })).toThrow(
      ConfigError,
    );
  });
});

describe('compareCandidates, second order when uncertain', () => {
  it('asks one combined call when the first order is clear, and both when the dimensions split 3-2', async () => {
    const critics = (await loadCritics()).filter((critic) => critic.kind === 'pairwise');
    const panel = await loadCombinedPanel();
    const answerAll =
      (winner: 'A' | 'B', split = false): Answer =>
      () =>
        Object.fromEntries(
          RANKERS.map((name, position) => [
            name,
            { rationale: 'r', winner: split && position < 2 ? (winner === 'A' ? 'B' : 'A') : winner },
          ]),
        );
    const input = {
      rankers: critics,
      panel,
      scheme: { panel: 'combined' as const, second_order: 'when-uncertain' as const },
      user1Persona: [],
      user2Persona: [],
      a: candidate(0),
      b: candidate(1),
    };

    const clear = fakeBackend({ panel_combined: answerAll('A') });
    const clearVerdicts = await compareCandidates({ ...input, firstShown: 'b' }, { backend: clear, options });
    expect(clear.calls).toHaveLength(1);
    expect(takesShown(clear.calls[0])).toEqual([1, 0]);
    expect(clearVerdicts.every((verdict) => verdict.winner === 1 && verdict.orderWinners[0] === null)).toBe(true);

    const split = fakeBackend({ panel_combined: answerAll('A', true) });
    const splitVerdicts = await compareCandidates({ ...input, firstShown: 'a' }, { backend: split, options });
    expect(split.calls).toHaveLength(2);
    // "A" wins 3 dimensions in each order: those flip with the order and become ties.
    expect(splitVerdicts.filter((verdict) => verdict.winner === null)).toHaveLength(5);
  });

  it('counts a missing answer or a one-vote margin as uncertain', () => {
    const names = ['x', 'y', 'z'];
    expect(isUncertainAnswer({ winners: { x: 1, y: 1, z: 1 }, rationales: {} }, names)).toBe(false);
    expect(isUncertainAnswer({ winners: { x: 1, y: 1, z: 2 }, rationales: {} }, names)).toBe(true);
    expect(isUncertainAnswer({ winners: { x: 1, y: 1, z: null }, rationales: {} }, names)).toBe(true);
  });
});

describe('runKnockout', () => {
  const vote = (winner: number, a: number, b: number): PairwiseVerdict => ({
    critic: 'depth',
    kind: 'pairwise',
    a,
    b,
    winner,
    orderWinners: [winner, null],
    rationale: '',
  });

  it('plays N-1 matches and the best candidate wins the bracket', async () => {
    const played: Array<[number, number]> = [];
    const result = await runKnockout({
      bracket: [3, 0, 2, 1, 4],
      compare: async (first, second) => {
        played.push([first, second]);
        return [vote(Math.max(first, second), first, second)];
      },
      filterConfidence: {},
    });
    expect(result).toMatchObject({ winnerIndex: 4, matches: 4 });
    expect(played).toEqual([
      [3, 0],
      [2, 1],
      [3, 2],
      [3, 4],
    ]);
  });

  it('breaks a tied match by filter confidence, then the lower index', async () => {
    const tie = async (first: number, second: number) => [{ ...vote(first, first, second), winner: null }];
    expect(
      (await runKnockout({ bracket: [2, 1], compare: tie, filterConfidence: { 2: 0.9, 1: 0.5 } })).winnerIndex,
    ).toBe(2);
    expect((await runKnockout({ bracket: [2, 1], compare: tie, filterConfidence: {} })).winnerIndex).toBe(1);
  });
});

describe('critiqueCandidates with listwise selection', () => {
  const scheme = (second_order: 'always' | 'when-uncertain', filters: 'separate' | 'folded') =>
    ({ method: 'listwise', panel: 'combined', second_order, filters }) as const;

  it('folds the filters into one listwise call: a flagged candidate out of contention is filtered on one answer', async () => {
    const critics = await loadCritics();
    const backend = fakeBackend({ listwise_listwise: listwise((take) => [3, 2, 5, 8][take]) });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1, ' zzbad'), candidate(2), candidate(3)] },
      {
        backend,
        critics,
        options,
        selection: scheme('when-uncertain', 'folded'),
        listwisePanel: await loadListwisePanel(),
      },
    );
    // One call: no filter calls, 8 v 5 is a clear gap, and the flagged take scores far below the leader.
    expect(backend.calls.map((call) => call.jsonSchema?.name)).toEqual(['listwise_listwise']);
    expect(result.winnerIndex).toBe(3);
    expect(result.reasons).toEqual({ faithfulness: 1 });
    expect(result.records[1]).toMatchObject({ status: 'filtered', filtered_by: 'faithfulness' });
    expect(result.selection).toBe('listwise; second order when-uncertain; filters folded');
    expect(Object.keys(result.promptHashes)).toEqual(['panel/listwise']);
    expect(result.scores.listwise_score).toBe(8);
  });

  it('asks the other order to confirm a flag on a contender: both flag, so it is filtered', async () => {
    const critics = await loadCritics();
    const backend = fakeBackend({ listwise_listwise: listwise((take) => [3, 9, 5, 8][take]) });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1, ' zzbad'), candidate(2), candidate(3)] },
      {
        backend,
        critics,
        options,
        selection: scheme('when-uncertain', 'folded'),
        listwisePanel: await loadListwisePanel(),
      },
    );
    // The flagged take scores above the best unflagged one: a wrong flag would have cost the winner.
    expect(backend.calls.map((call) => call.jsonSchema?.name)).toEqual(['listwise_listwise', 'listwise_listwise']);
    expect(result.winnerIndex).toBe(3);
    expect(result.records[1].filters.find((verdict) => verdict.critic === 'faithfulness')).toMatchObject({
      passed: false,
      confidence: 1,
    });
  });

  describe('a split folded check (one order of two flags)', () => {
    // Take 1 is flagged only in the first order asked, take 2 only in the second.
    const splitting = (): Answer => {
      let asked = 0;
      return (request) => {
        const reply = listwise((take) => [3, 9, 5, 8][take])(request) as {
          scores: Record<string, Record<string, unknown>>;
        };
        const shown = takesShown(request);
        reply.scores[String(shown.indexOf(asked === 0 ? 1 : 2) + 1)].contradicts = true;
        asked += 1;
        return reply;
      };
    };
    const critique = async (contradicts: boolean) => {
      const backend = fakeBackend({
        listwise_listwise: splitting(),
        critic_faithfulness: () => ({ rationale: 'checked', contradicts, confidence: 0.8 }),
      });
      const result = await critiqueCandidates(
        { pair, candidates: [candidate(0), candidate(1), candidate(2), candidate(3)] },
        { backend, critics: await loadCritics(), options, selection: scheme('always', 'folded') },
      );
      return { backend, result };
    };

    it('rejects nothing by itself; on the would-be winner it is settled by the filter critic', async () => {
      const { backend, result } = await critique(false);
      const names = backend.calls.map((call) => call.jsonSchema?.name);
      // Only take 1 (the leader) gets a filter call; take 2's split passes without one.
      expect(names).toEqual(['listwise_listwise', 'listwise_listwise', 'critic_faithfulness']);
      expect(backend.calls[2].messages.map((message) => message.content).join('\n')).toContain('take 1');
      expect(result.winnerIndex).toBe(1);
      expect(result.reasons).toEqual({});
      expect(result.records[1].filters.map((verdict) => [verdict.critic, verdict.passed])).toEqual([
        ...result.records[1].filters
          .filter((verdict) => verdict.source === 'lint')
          .map((verdict) => [verdict.critic, true]),
        ['faithfulness', true],
        ['toxicity', true],
        ['faithfulness', true],
      ]);
      expect(result.records[2].status).toBe('ranked');
    });

    it('and when the filter critic rejects it, the next candidate in score order wins', async () => {
      const { result } = await critique(true);
      expect(result.winnerIndex).toBe(3);
      expect(result.records[1]).toMatchObject({ status: 'filtered', filtered_by: 'faithfulness' });
      expect(result.records[1].filters.at(-1)!.rationale).toMatch(/^split listwise check settled: /);
      expect(result.reasons).toEqual({ faithfulness: 1 });
    });
  });

  it('counts a strict majority of the orders as a rejection, an even split as a split', () => {
    expect([isFlagged({ flagged: 1, answers: 1 }), isSplit({ flagged: 1, answers: 1 })]).toEqual([true, false]);
    expect([isFlagged({ flagged: 1, answers: 2 }), isSplit({ flagged: 1, answers: 2 })]).toEqual([false, true]);
    expect([isFlagged({ flagged: 2, answers: 2 }), isFlagged({ flagged: 0, answers: 2 })]).toEqual([true, false]);
    expect([isFlagged({ flagged: 0, answers: 0 }), isSplit({ flagged: 0, answers: 0 })]).toEqual([false, false]);
  });

  it('asks the reversed order when the best two are less than a point apart, and averages both', async () => {
    const critics = await loadCritics();
    // The first order ties 0 and 1 at 6; the second order (reversed) prefers whichever is then shown first by 2.
    let asked = 0;
    const biased: Answer = (request) => {
      const reply = listwise((take) => [6, 6, 2][take])(request) as { scores: Record<string, Record<string, number>> };
      if (asked++ === 1) for (const name of RANKERS) reply.scores['1'][name] += 2;
      return reply;
    };
    const backend = fakeBackend({
      listwise_listwise: biased,
      critic_faithfulness: () => ({ rationale: 'ok', contradicts: false, confidence: 0.9 }),
      critic_toxicity: () => ({ rationale: 'ok', toxic: false, confidence: 0.9 }),
    });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1), candidate(2)] },
      {
        backend,
        critics,
        options,
        selection: scheme('when-uncertain', 'separate'),
        listwisePanel: await loadListwisePanel(),
      },
    );
    const listwiseCalls = backend.calls.filter((call) => call.jsonSchema?.name === 'listwise_listwise');
    expect(listwiseCalls).toHaveLength(2);
    expect(takesShown(listwiseCalls[1])).toEqual([...takesShown(listwiseCalls[0])].reverse());
    // Averaged: the candidate shown first in the second order leads by one point.
    const secondFirst = takesShown(listwiseCalls[1])[0];
    expect(result.winnerIndex).toBe(secondFirst === 2 ? 0 : secondFirst);
  });
});

describe('combined filters (one filter panel call per candidate)', () => {
  it('answers every filter check in one call per candidate, before a listwise ranking of the rest', async () => {
    const critics = await loadCritics();
    const backend = fakeBackend({
      filter_panel_filters: (request) => {
        const flagged = request.messages[1].content.includes('zzbad');
        return { rationale: 'checked', contradicts: flagged, toxic: false, confidence: 0.7 };
      },
      listwise_listwise: listwise((take) => [3, 9, 5, 8][take]),
    });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1, ' zzbad'), candidate(2), candidate(3)] },
      {
        backend,
        critics,
        options,
        selection: { method: 'listwise', panel: 'combined', second_order: 'when-uncertain', filters: 'combined' },
      },
    );
    const names = backend.calls.map((call) => call.jsonSchema?.name);
    expect(names.filter((name) => name === 'filter_panel_filters')).toHaveLength(4);
    expect(names.filter((name) => name?.startsWith('critic_'))).toEqual([]);
    // The filtered take is not shown to the listwise panel.
    const shown = backend.calls.filter((call) => call.jsonSchema?.name === 'listwise_listwise').map(takesShown);
    expect(shown.every((takes) => takes.length === 3 && !takes.includes(1))).toBe(true);
    expect(result.winnerIndex).toBe(3);
    expect(result.records[1]).toMatchObject({ status: 'filtered', filtered_by: 'faithfulness' });
    expect(result.records[0].filters.filter((verdict) => verdict.source === 'llm')).toMatchObject([
      { critic: 'faithfulness', passed: true, confidence: 0.7 },
      { critic: 'toxicity', passed: true, confidence: 0.7 },
    ]);
    expect(result.selection).toBe('listwise; second order when-uncertain; filters combined');
    expect(Object.keys(result.promptHashes).sort()).toEqual(['panel/filters', 'panel/listwise']);
  });

  it('rejects nothing when the panel reply is unusable after the repair (confidence 0)', async () => {
    const backend = fakeBackend({ filter_panel_filters: () => 'not json', listwise_listwise: listwise(() => 5) });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1)] },
      {
        backend,
        critics: await loadCritics(),
        options,
        selection: { method: 'listwise', panel: 'combined', second_order: 'always', filters: 'combined' },
      },
    );
    expect(result.reasons).toEqual({});
    expect(result.records[0].filters.filter((verdict) => verdict.source === 'llm')).toMatchObject([
      { critic: 'faithfulness', passed: true, confidence: 0 },
      { critic: 'toxicity', passed: true, confidence: 0 },
    ]);
    expect(result.records[0].filters.at(-1)!.rationale).toMatch(/^filter panel reply unusable: /);
  });

  it('names the file and line of an unknown placeholder in the filter panel prompt', () => {
    const text = [
      '---',
      'name: filters',
      'description: d',
      '---',
      '{{checks}} {{reply_format}}',
      '{{conversation}} {{oops}}',
    ].join('\n');
    expect(() => parseFilterPanelFile(text, 'panel/filters.md')).toThrow(InputError);
    expect(() => parseFilterPanelFile(text, 'panel/filters.md')).toThrow(/\{\{oops\}\}/);
  });
});

describe('listwise panel prompt file', () => {
  it('names the file and line of an unknown placeholder', () => {
    const text = '---\nname: mine\ndescription: d\n---\n{{dimensions}} {{reply_format}}\n{{conversations}} {{nope}}\n';
    expect(() => parseListwisePanelFile(text, 'my/listwise.md')).toThrow(InputError);
    expect(() => parseListwisePanelFile(text, 'my/listwise.md')).toThrow(
      /my\/listwise\.md:6: unknown placeholder \{\{nope\}\}/,
    );
  });

  it('keeps the stable instructions before the profiles and conversations (prompt caching)', async () => {
    const panel = await loadListwisePanel();
    expect(panel.prompt.indexOf('{{reply_format}}')).toBeLessThan(panel.prompt.indexOf('{{user1_persona}}'));
    expect(panel.prompt.indexOf('{{user2_persona}}')).toBeLessThan(panel.prompt.indexOf('{{conversations}}'));
  });
});
