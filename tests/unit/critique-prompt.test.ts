import { describe, expect, it } from 'vitest';
import { renderCriticPrompt } from '../../src/critique/render-critic-prompt.ts';
import { buildCriticRequest, criticSchemaName } from '../../src/critique/build-critic-request.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import type { CriticDefinition } from '../../src/schemas/critic.ts';
import type { Turn } from '../../src/schemas/turn.ts';

const user1Persona = ['I have two dogs.', 'I am a nurse.'];
const user2Persona = ['I play guitar.'];
const turns: Turn[] = [
  { speaker: 'User 1', text: 'Hi!' },
  { speaker: 'User 2', text: 'Hello there.' },
];
const otherTurns: Turn[] = [
  { speaker: 'User 1', text: 'Yo.' },
  { speaker: 'User 2', text: 'Hey.' },
];

function critic(overrides: Partial<CriticDefinition>): CriticDefinition {
  return {
    name: 'faithfulness',
    kind: 'filter',
    description: 'Checks profiles.',
    verdict: { field: 'contradicts', reject_when: true },
    enabled: true,
    prompt: 'P1:\n{{user1_persona}}\nP2:\n{{user2_persona}}\n{{conversation}}\nContradiction? Why?',
    promptHash: 'abc',
    sourcePath: 'critics/faithfulness.md',
    ...overrides,
  };
}

const ranker = critic({
  name: 'depth',
  kind: 'pairwise',
  description: 'Depth.',
  verdict: { field: 'winner' },
  prompt: '{{ user1_persona }}\n{{user2_persona}}\n{{conversation_a}}\n{{conversation_b}}\nWhich is deeper? Why?',
});

describe('renderCriticPrompt', () => {
  it('renders personas as "- attr" lines and the conversation in a <conversation> tag', () => {
    const text = renderCriticPrompt(critic({}), { kind: 'filter', user1Persona, user2Persona, turns });
    expect(text).toBe(
      'P1:\n- I have two dogs.\n- I am a nurse.\nP2:\n- I play guitar.\n' +
        '<conversation>\nUser 1: Hi!\nUser 2: Hello there.\n</conversation>\nContradiction? Why?',
    );
  });

  it('renders the two conversations of a pairwise critic as A and B', () => {
    const text = renderCriticPrompt(ranker, {
      kind: 'pairwise',
      user1Persona,
      user2Persona,
      turnsA: turns,
      turnsB: otherTurns,
    });
    expect(text).toContain('<conversation id="A">\nUser 1: Hi!\nUser 2: Hello there.\n</conversation>');
    expect(text).toContain('<conversation id="B">\nUser 1: Yo.\nUser 2: Hey.\n</conversation>');
    expect(text.startsWith('- I have two dogs.')).toBe(true);
  });

  it('substitutes in one pass: placeholder-like text inside a conversation stays as written', () => {
    const tricky: Turn[] = [{ speaker: 'User 1', text: 'I typed {{user2_persona}} by mistake $& $1' }];
    const text = renderCriticPrompt(critic({}), { kind: 'filter', user1Persona, user2Persona, turns: tricky });
    expect(text).toContain('User 1: I typed {{user2_persona}} by mistake $& $1');
  });

  it('refuses a context of the other kind', () => {
    expect(() => renderCriticPrompt(ranker, { kind: 'filter', user1Persona, user2Persona, turns })).toThrow(/pairwise/);
  });

  it('leaves no placeholder behind in any built-in critic', async () => {
    for (const builtin of await loadCritics()) {
      const context =
        builtin.kind === 'filter'
          ? ({ kind: 'filter', user1Persona, user2Persona, turns } as const)
          : ({ kind: 'pairwise', user1Persona, user2Persona, turnsA: turns, turnsB: otherTurns } as const);
      const text = renderCriticPrompt(builtin, context);
      expect(text).not.toMatch(/\{\{/);
      expect(text).toContain('- I play guitar.');
    }
  });
});

describe('buildCriticRequest', () => {
  it('sends a system message with the role and JSON-only instruction, then the rendered body', () => {
    const request = buildCriticRequest(
      critic({}),
      { kind: 'filter', user1Persona, user2Persona, turns },
      { temperature: 0, maxOutputTokens: 300, seed: 7 },
    );
    expect(request.role).toBe('critic');
    expect(request).toMatchObject({ temperature: 0, maxOutputTokens: 300, seed: 7 });
    expect(request.messages).toHaveLength(2);
    expect(request.messages[0].role).toBe('system');
    expect(request.messages[0].content).toContain('"faithfulness" critic');
    expect(request.messages[0].content).toContain('Answer with JSON only');
    expect(request.messages[0].content).toContain('"contradicts": boolean');
    expect(request.messages[1]).toEqual({
      role: 'user',
      content: renderCriticPrompt(critic({}), { kind: 'filter', user1Persona, user2Persona, turns }),
    });
  });

  it('asks a ranker for a winner A or B and omits an absent seed', () => {
    const request = buildCriticRequest(
      ranker,
      { kind: 'pairwise', user1Persona, user2Persona, turnsA: turns, turnsB: otherTurns },
      { temperature: 0.2, maxOutputTokens: 100 },
    );
    expect(request.messages[0].content).toContain('"winner": "A" or "B"');
    expect('seed' in request).toBe(false);
  });

  it('names schemas critic_<name> for filters and pairwise_<name> for rankers', () => {
    expect(criticSchemaName(critic({}))).toBe('critic_faithfulness');
    expect(criticSchemaName(ranker)).toBe('pairwise_depth');
    expect(criticSchemaName(critic({ name: 'no-slurs' }))).toBe('critic_no_slurs');
  });
});
