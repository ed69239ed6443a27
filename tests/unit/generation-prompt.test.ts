import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGeneratorPrompt } from '../../src/generation/build-generator-prompt.ts';
import { loadPromptTemplate } from '../../src/generation/load-prompt-template.ts';
import { parseConversation } from '../../src/generation/parse-conversation.ts';
import type { PoolRecord } from '../../src/schemas/conversation.ts';

const pair = {
  id: 'pair-0001',
  user1: { id: 'p-1', attributes: ['I have two cats.', 'I work as a nurse.'] },
  user2: { id: 'p-2', attributes: ['I play the cello.', 'My brother lives in Oslo.'] },
};
const example: PoolRecord = {
  id: 'seed-1',
  user1_persona: ['I like tea.'],
  user2_persona: ['I ride a bike to work.'],
  turns: [
    { speaker: 'User 1', text: 'Hi there!' },
    { speaker: 'User 2', text: 'Hello, how are you?' },
  ],
  source: 'seed',
  iteration: 0,
  score: 0,
};

describe('buildGeneratorPrompt', () => {
  it('renders header, examples, instruction with target length, and the target pair last', async () => {
    const template = await loadPromptTemplate();
    const messages = buildGeneratorPrompt(template, {
      pair,
      examples: [example, { ...example, id: 'seed-2' }],
      targetMinTurns: 12,
      targetMaxTurns: 20,
    });
    expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
    const body = messages[1].content;
    expect(body).toContain(
      'Example 1:\nUser 1 persona:\n- I like tea.\nUser 2 persona:\n- I ride a bike to work.\nConversation:\nUser 1: Hi there!\nUser 2: Hello, how are you?',
    );
    expect(body).toContain('Example 2:');
    expect(body).toContain('between 12 and 20 utterances');
    expect(
      body.endsWith(
        'User 1 persona:\n- I have two cats.\n- I work as a nurse.\nUser 2 persona:\n- I play the cello.\n- My brother lives in Oslo.\nConversation:',
      ),
    ).toBe(true);
    expect(body).not.toMatch(/\{\{\w+\}\}/);
  });

  it('never expands placeholder-like text inside persona values', async () => {
    const template = await loadPromptTemplate();
    const tricky = { ...pair, user1: { id: 'p-1', attributes: ['I write {{examples}} in my notes.'] } };
    const body = buildGeneratorPrompt(template, { pair: tricky, examples: [], targetMinTurns: 6, targetMaxTurns: 8 })[1]
      .content;
    expect(body).toContain('- I write {{examples}} in my notes.');
  });

  it('hashes the template and rejects templates missing a required placeholder', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pf-template-'));
    const path = join(directory, 'bad.md');
    await writeFile(path, '---\nsystem: hi\n---\n{{examples}} {{user1_persona}}\n');
    await expect(loadPromptTemplate(path)).rejects.toThrow(`${path}: missing required placeholder {{user2_persona}}`);
    await writeFile(path, '---\nsystem: hi\n---\n{{examples}} {{user1_persona}} {{user2_persona}} {{tone}}\n');
    await expect(loadPromptTemplate(path)).rejects.toThrow('unknown placeholder {{tone}}');
    const good = await loadPromptTemplate();
    expect(good.hash).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('parseConversation', () => {
  it('reads alternating turns, drops preambles and joins continuation lines', () => {
    const parsed = parseConversation(
      'Sure! Here it is:\n\nUser 1: Hi, how are you?\nUser 2: Great,\nthanks for asking.\n**User 1:** Nice.',
    );
    expect(parsed.parseError).toBeUndefined();
    expect(parsed.turns).toEqual([
      { speaker: 'User 1', text: 'Hi, how are you?' },
      { speaker: 'User 2', text: 'Great, thanks for asking.' },
      { speaker: 'User 1', text: 'Nice.' },
    ]);
  });

  it('accepts label variants like "user2 -" and "USER 1 :"', () => {
    expect(parseConversation('USER 1 : hey\nuser2 - yo').turns.map((turn) => turn.speaker)).toEqual([
      'User 1',
      'User 2',
    ]);
  });

  it('reports a parse error when no speaker lines exist', () => {
    expect(parseConversation('Once upon a time there were two people.')).toMatchObject({
      turns: [],
      parseError: 'no "User 1:" / "User 2:" lines found in the reply',
    });
  });

  it('flags empty utterances', () => {
    const parsed = parseConversation('User 1: hi\nUser 2:\nUser 1: hello?');
    expect(parsed.parseError).toBe('1 empty utterance(s)');
    expect(parsed.turns).toHaveLength(2);
  });
});
