import { describe, expect, it } from 'vitest';
import { critiqueCandidates, type CritiqueCandidate } from '../../src/critique/critique-candidates.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import {
  COMBINED_PANEL_LINEAGE_KEY,
  defaultCombinedPanelPath,
  loadCombinedPanel,
  parseCombinedPanelFile,
} from '../../src/critique/combined-panel-file.ts';
import {
  buildCombinedPanelRequest,
  combinedPanelSchemaName,
  combinedPanelSystemMessage,
  renderCombinedPanelPrompt,
} from '../../src/critique/combined-panel-prompt.ts';
import { combinePanelOrders, readPanelReply, unusablePanelReply } from '../../src/critique/combined-panel-verdicts.ts';
import { runCombinedPanel } from '../../src/critique/combined-panel-run.ts';
import { aggregateVotes } from '../../src/critique/aggregate-votes.ts';
import { InputError, LlmError } from '../../src/errors.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../../src/llm/llm-backend.ts';
import { combinedPanelReplySchema, CombinedPanelSchema } from '../../src/schemas/combined-panel.ts';
import { PairwiseVerdictSchema } from '../../src/schemas/critic.ts';
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

/** The candidate index written in a `<conversation id="A|B">` block ("take N"). */
function takeIn(request: CompletionRequest, id: 'A' | 'B'): number {
  const body = request.messages[1].content.split(`<conversation id="${id}">`)[1]?.split('</conversation>')[0] ?? '';
  const match = body.match(/take (\d+)/);
  if (!match) throw new Error(`no take in conversation ${id}`);
  return Number(match[1]);
}

const critics = await loadCritics();
const rankers = critics.filter((critic) => critic.kind === 'pairwise');
const RANKERS = rankers.map((critic) => critic.name);
const panel = await loadCombinedPanel();

const pair: Pair = {
  id: 'pair-1',
  user1: { id: 'p1', attributes: ['I have two dogs and a cat.', 'I work as a nurse.'] },
  user2: { id: 'p2', attributes: ['I play the guitar in a band.', 'My favorite food is sushi.'] },
};

function candidate(index: number): CritiqueCandidate {
  const texts = [
    `Hi, this is take ${index}. Long shift at the hospital today.`,
    'That sounds tiring. Do you get a day off soon?',
    'Saturday. I will walk my pups by the lake.',
    'Nice, I will be rehearsing with my band.',
    'What kind of music do you play?',
    'Indie rock, mostly. Then we go out for rolls.',
  ];
  const turns: Turn[] = texts.map((text, position) => ({ speaker: position % 2 === 0 ? 'User 1' : 'User 2', text }));
  return { index, turns, rawText: turns.map((turn) => `${turn.speaker}: ${turn.text}`).join('\n') };
}

const filterPass: Answer = () => ({ rationale: 'fine', contradicts: false, toxic: false, confidence: 0.9 });
/** Per-dimension preference: `score(dimension, index)`, higher wins. */
const panelPrefer =
  (score: (dimension: string, index: number) => number): Answer =>
  (request) => {
    const [a, b] = [takeIn(request, 'A'), takeIn(request, 'B')];
    return Object.fromEntries(
      RANKERS.map((name) => [
        name,
        { rationale: `${name} compared`, winner: score(name, a) >= score(name, b) ? 'A' : 'B' },
      ]),
    );
  };
const expertPrefer = (score: (dimension: string, index: number) => number): Record<string, Answer> =>
  Object.fromEntries(
    RANKERS.map((name) => [
      `pairwise_${name}`,
      (request: CompletionRequest) => ({
        rationale: `${name} compared`,
        winner: score(name, takeIn(request, 'A')) >= score(name, takeIn(request, 'B')) ? 'A' : 'B',
      }),
    ]),
  );
const options = { minTurns: 4, maxTurns: 30, temperature: 0, maxOutputTokens: 400, seed: 11 };
const personas = { user1Persona: pair.user1.attributes, user2Persona: pair.user2.attributes };

describe('combined panel prompt file', () => {
  it('loads the built-in critics/panel/combined.md once per path, with a 12-hex hash', async () => {
    expect(panel).toMatchObject({ name: 'combined', sourcePath: defaultCombinedPanelPath() });
    expect(CombinedPanelSchema.parse(panel)).toEqual(panel);
    expect(panel.promptHash).toMatch(/^[0-9a-f]{12}$/);
    expect(await loadCombinedPanel()).toBe(panel);
    expect(combinedPanelSchemaName(panel)).toBe('panel_combined');
    expect(COMBINED_PANEL_LINEAGE_KEY).not.toMatch(/^[a-z][a-z0-9_-]*$/); // never a critic name
  });

  it('rejects unknown and missing placeholders, naming the file and line', () => {
    const head = '---\nname: combined\ndescription: All at once.\n---\n';
    const unknown = () =>
      parseCombinedPanelFile(
        `${head}{{dimensions}}\n{{conversation_a}} {{conversation_b}}\n{{conversation}}\n`,
        'x/combined.md',
      );
    expect(unknown).toThrow(InputError);
    expect(unknown).toThrow(/x\/combined\.md:7: unknown placeholder \{\{conversation\}\}/);
    expect(() => parseCombinedPanelFile(`${head}{{conversation_a}} {{conversation_b}}\n`, 'x.md')).toThrow(
      /never uses \{\{dimensions\}\}/,
    );
    expect(() => parseCombinedPanelFile('no frontmatter {{dimensions}}', 'x.md')).toThrow(/missing frontmatter/);
    expect(() => parseCombinedPanelFile('---\nname: Combined Panel\n---\n{{dimensions}}', 'x.md')).toThrow(
      /frontmatter field "name"/,
    );
  });

  it('rejects a missing file with an InputError', async () => {
    await expect(loadCombinedPanel('/nonexistent/panel.md')).rejects.toThrow(InputError);
  });
});

describe('combined panel prompt building', () => {
  const context = { ...personas, turnsA: candidate(3).turns, turnsB: candidate(5).turns };

  it('lists every pairwise critic as a dimension with its description, and the reply keys', () => {
    const prompt = renderCombinedPanelPrompt(panel, rankers, context);
    for (const critic of rankers) {
      expect(prompt).toContain(`- **${critic.name}**: ${critic.description}`);
      expect(prompt).toContain(
        `"${critic.name}": {"rationale": "<one or two sentences comparing A and B on ${critic.name}>", "winner": "A" or "B"}`,
      );
    }
    expect(prompt).toContain('- I have two dogs and a cat.\n- I work as a nurse.');
    expect(prompt).toContain('<conversation id="A">\nUser 1: Hi, this is take 3.');
    expect(prompt).toContain('<conversation id="B">\nUser 1: Hi, this is take 5.');
    expect(prompt).not.toMatch(/\{\{/);
    const system = combinedPanelSystemMessage(rankers);
    expect(system).toContain(`5 separate qualities: ${RANKERS.join(', ')}`);
    expect(system).toContain('"depth": {"rationale": string, "winner": "A" or "B"}');
  });

  it('substitutes in one pass: placeholder text inside a conversation stays as written', () => {
    const sneaky: Turn[] = [{ speaker: 'User 1', text: 'I love {{dimensions}} and {{user2_persona}}' }];
    const prompt = renderCombinedPanelPrompt(panel, rankers, { ...context, turnsA: sneaky });
    expect(prompt).toContain('User 1: I love {{dimensions}} and {{user2_persona}}');
  });

  it('builds a critic-role request with the critic sampling settings', () => {
    const request = buildCombinedPanelRequest(panel, rankers, context, {
      temperature: 0,
      maxOutputTokens: 2000,
      seed: 5,
    });
    expect(request).toMatchObject({ role: 'critic', temperature: 0, maxOutputTokens: 2000, seed: 5 });
    expect(request.messages.map((message) => message.role)).toEqual(['system', 'user']);
  });
});

describe('combined panel reply parsing and both-order ties', () => {
  const reply = Object.fromEntries(
    RANKERS.map((name, position) => [name, { rationale: `r-${name}`, winner: position % 2 === 0 ? 'A' : 'B' }]),
  ) as Record<string, { rationale: string; winner: 'A' | 'B' }>;

  it('validates one verdict per dimension and reuses the schema object', () => {
    const schema = combinedPanelReplySchema(RANKERS);
    expect(schema).toBe(combinedPanelReplySchema([...RANKERS]));
    expect(schema.safeParse(reply).success).toBe(true);
    const { depth: _missing, ...withoutDepth } = reply;
    expect(schema.safeParse(withoutDepth).success).toBe(false);
    expect(schema.safeParse({ ...reply, depth: { rationale: 'x', winner: 'C' } }).success).toBe(false);
  });

  it('maps "A" and "B" onto the candidates shown in that order', () => {
    const answer = readPanelReply(reply, RANKERS, 4, 1);
    expect(answer.winners).toEqual(
      Object.fromEntries(RANKERS.map((name, position) => [name, position % 2 === 0 ? 4 : 1])),
    );
    expect(answer.rationales.depth).toBe('r-depth');
    expect(readPanelReply({}, ['depth'], 4, 1).winners).toEqual({ depth: null });
  });

  it('lets agreeing orders win and turns a flip or an unusable order into a tie, per dimension', () => {
    const first = {
      winners: { depth: 0, coherency: 0, consistency: 1 },
      rationales: { depth: 'd1', coherency: 'c1', consistency: 's1' },
    };
    const second = {
      winners: { depth: 0, coherency: 1, consistency: 1 },
      rationales: { depth: 'd2', coherency: 'c2', consistency: 's2' },
    };
    const verdicts = combinePanelOrders(['depth', 'coherency', 'consistency'], 0, 1, first, second);
    expect(verdicts.map((verdict) => PairwiseVerdictSchema.parse(verdict))).toEqual(verdicts);
    expect(verdicts.map((verdict) => [verdict.critic, verdict.winner, verdict.orderWinners])).toEqual([
      ['depth', 0, [0, 0]],
      ['coherency', null, [0, 1]],
      ['consistency', 1, [1, 1]],
    ]);
    expect(verdicts[0].rationale).toBe('[candidate 0 as A] d1\n[candidate 1 as A] d2');

    const unusable = unusablePanelReply(['depth', 'coherency', 'consistency'], 'not JSON');
    const halfBroken = combinePanelOrders(['depth', 'coherency', 'consistency'], 0, 1, first, unusable);
    expect(halfBroken.map((verdict) => verdict.winner)).toEqual([null, null, null]);
    expect(halfBroken[0].orderWinners).toEqual([0, null]);
    expect(halfBroken[0].rationale).toContain('panel reply unusable: not JSON');
  });
});

describe('runCombinedPanel', () => {
  it('asks one call per order for all dimensions, with every dimension required in the schema', async () => {
    const backend = fakeBackend({ panel_combined: panelPrefer((_name, index) => index) });
    const verdicts = await runCombinedPanel(
      { panel, dimensions: rankers, ...personas, a: candidate(0), b: candidate(1) },
      { backend, options },
    );
    expect(backend.calls).toHaveLength(2);
    expect(backend.calls.map((request) => [takeIn(request, 'A'), takeIn(request, 'B')])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    const schema = backend.calls[0].jsonSchema!.schema as { required: string[] };
    expect(schema.required).toEqual(RANKERS);
    // Each order may write one critic reply's worth of tokens per dimension.
    expect(backend.calls[0]).toMatchObject({ role: 'critic', maxOutputTokens: 400 * 5, seed: 11 });
    expect(verdicts.map((verdict) => [verdict.critic, verdict.a, verdict.b, verdict.winner])).toEqual(
      RANKERS.map((name) => [name, 0, 1, 1]),
    );
  });

  it("makes every dimension a tie when one order's reply stays unusable after the repair", async () => {
    // Unusable whenever candidate 0 is shown as A (the first call and its repair); fine otherwise.
    const backend = fakeBackend({
      panel_combined: (request) => (takeIn(request, 'A') === 0 ? 'not json at all' : panelPrefer(() => 1)(request)),
    });
    const verdicts = await runCombinedPanel(
      { panel, dimensions: rankers, ...personas, a: candidate(0), b: candidate(1) },
      { backend, options },
    );
    // The good order once; the bad order asked, repaired and re-asked as completeStructured's policy says.
    expect(backend.calls.length).toBeGreaterThanOrEqual(3);
    expect((backend.calls.length - 1) % 2).toBe(0);
    expect(verdicts.map((verdict) => [verdict.winner, verdict.orderWinners])).toEqual(
      RANKERS.map(() => [null, [null, 1]]),
    );
    expect(verdicts[0].rationale).toContain('panel reply unusable');
  });

  it('propagates other LLM errors', async () => {
    const backend = fakeBackend({ panel_combined: () => new LlmError('HTTP 500', { status: 500 }) });
    await expect(
      runCombinedPanel(
        { panel, dimensions: rankers, ...personas, a: candidate(0), b: candidate(1) },
        { backend, options },
      ),
    ).rejects.toThrow('HTTP 500');
  });
});

describe('critiqueCandidates with the combined panel', () => {
  // Dimensions disagree on purpose: depth and likability prefer take 0, the others the higher take.
  const score = (name: string, index: number) => (name === 'depth' || name === 'likability' ? -index : index);
  const filters = { critic_faithfulness: filterPass, critic_toxicity: filterPass };

  it('asks 2 calls per candidate pair instead of 10 and aggregates to the same result', async () => {
    const candidates = [candidate(0), candidate(1), candidate(2)];
    const perExpertBackend = fakeBackend({ ...filters, ...expertPrefer(score) });
    const perExpert = await critiqueCandidates({ pair, candidates }, { backend: perExpertBackend, critics, options });
    const combinedBackend = fakeBackend({ ...filters, panel_combined: panelPrefer(score) });
    const combined = await critiqueCandidates(
      { pair, candidates },
      { backend: combinedBackend, critics, options, panel },
    );

    const rankerCalls = (backend: { calls: CompletionRequest[] }) =>
      backend.calls.filter((request) => !request.jsonSchema!.name.startsWith('critic_')).length;
    expect(rankerCalls(perExpertBackend)).toBe(3 * 5 * 2);
    expect(rankerCalls(combinedBackend)).toBe(3 * 2);
    expect(combinedBackend.calls.every((request) => !request.jsonSchema!.name.startsWith('pairwise_'))).toBe(true);

    const shape = (verdict: { critic: string; a: number; b: number; winner: number | null; orderWinners: unknown }) => [
      verdict.critic,
      verdict.a,
      verdict.b,
      verdict.winner,
      verdict.orderWinners,
    ];
    expect(combined.records.map((record) => record.pairwise.map(shape))).toEqual(
      perExpert.records.map((record) => record.pairwise.map(shape)),
    );
    expect(combined.winnerIndex).toBe(perExpert.winnerIndex);
    expect(combined.scores).toEqual(perExpert.scores);
    expect(combined.records.map((record) => [record.status, record.copeland])).toEqual(
      perExpert.records.map((record) => [record.status, record.copeland]),
    );
    expect(combined.winnerIndex).toBe(2); // 3 of 5 dimensions prefer the higher take
  });

  it('feeds aggregateVotes verdicts of the per-expert shape, one per dimension and candidate pair', async () => {
    const backend = fakeBackend({ ...filters, panel_combined: panelPrefer(score) });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1)] },
      { backend, critics, options, panel },
    );
    const verdicts = result.records[0].pairwise;
    expect(verdicts.map((verdict) => verdict.critic)).toEqual(RANKERS);
    const aggregate = aggregateVotes({ candidateIndexes: [0, 1], verdicts, filterConfidence: { 0: 0.9, 1: 0.9 } });
    expect(aggregate.criticWins).toEqual({
      0: { depth: 1, coherency: 0, consistency: 0, diversity: 0, likability: 1 },
      1: { depth: 0, coherency: 1, consistency: 1, diversity: 1, likability: 0 },
    });
    expect(aggregate.winnerIndex).toBe(result.winnerIndex);
  });

  it('turns a position-biased panel into ties on every dimension', async () => {
    const alwaysA: Answer = () =>
      Object.fromEntries(RANKERS.map((name) => [name, { rationale: 'first', winner: 'A' }]));
    const backend = fakeBackend({ ...filters, panel_combined: alwaysA });
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1)] },
      { backend, critics, options, panel },
    );
    expect(result.records[0].pairwise.every((verdict) => verdict.winner === null)).toBe(true);
    expect(result.records.map((record) => record.copeland)).toEqual([0, 0]);
    expect(result.winnerIndex).toBe(0); // tie: equal filter confidence, then the lower index
  });

  it('makes no panel call without pairwise critics', async () => {
    const backend = fakeBackend(filters);
    const filtersOnly = critics.filter((critic) => critic.kind === 'filter');
    const result = await critiqueCandidates(
      { pair, candidates: [candidate(0), candidate(1)] },
      { backend, critics: filtersOnly, options, panel },
    );
    expect(backend.calls.every((request) => request.jsonSchema!.name.startsWith('critic_'))).toBe(true);
    expect(result.winnerIndex).toBe(0);
  });
});
