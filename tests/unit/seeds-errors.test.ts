import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedAttributes } from '../../src/personas/load-seed-attributes.ts';
import { loadSeedConversations } from '../../src/personas/load-seed-conversations.ts';
import { InputError } from '../../src/errors.ts';

const ATTRIBUTE_HINT =
  'Each line must be one JSON object like {"id":"pets-001","category":"pets","text":"I have a dog."}';
const CONVERSATION_HINT =
  'Each line must be one JSON object like {"id":"seed-001","user1_persona":["I have a dog."],' +
  '"user2_persona":["I love jazz."],"turns":[{"speaker":"User 1","text":"Hi! How are you?"},' +
  '{"speaker":"User 2","text":"Great, just got back from a concert."}]}';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'persona-forge-seeds-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function seedFile(name: string, lines: string[]): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, lines.join('\n'));
  return path;
}

async function errorOf(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

const dog = '{"id":"pets-001","category":"pets","text":"I have a dog."}';
const nurse = '{"id":"jobs-001","category":"jobs","text":"I am a nurse."}';

describe('loadSeedAttributes', () => {
  it('skips blank lines and # comments and keeps file order', async () => {
    const path = await seedFile('ok.jsonl', ['# my attributes', '', dog, '   ', nurse, '']);
    const attributes = await loadSeedAttributes(path);
    expect(attributes.map((attribute) => attribute.id)).toEqual(['pets-001', 'jobs-001']);
  });

  it('reports invalid JSON with file and line', async () => {
    const path = await seedFile('bad-json.jsonl', [dog, '', '{"id":"pets-002", }']);
    let parseMessage = '';
    try {
      JSON.parse('{"id":"pets-002", }');
    } catch (error) {
      parseMessage = (error as Error).message;
    }
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(`${path}:3: invalid JSON (${parseMessage}). ${ATTRIBUTE_HINT}`);
    expect(error.file).toBe(path);
    expect(error.line).toBe(3);
  });

  it('names a missing field', async () => {
    const path = await seedFile('missing.jsonl', [dog, '{"id":"pets-002","category":"pets"}']);
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(`${path}:2: field "text" is missing (expected string). ${ATTRIBUTE_HINT}`);
    expect(error.line).toBe(2);
  });

  it('names a field with a wrong value', async () => {
    const path = await seedFile('short.jsonl', ['{"id":"pets-002","category":"pets","text":"I"}']);
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(
      `${path}:1: field "text": Too small: expected string to have >=3 characters. ${ATTRIBUTE_HINT}`,
    );
  });

  it('rejects a line that is not an object', async () => {
    const path = await seedFile('array.jsonl', ['["I have a dog."]']);
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(`${path}:1: expected a JSON object, got an array. ${ATTRIBUTE_HINT}`);
  });

  it('rejects a duplicate id naming both lines', async () => {
    const path = await seedFile('duplicate.jsonl', [dog, nurse, '# again', dog]);
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(
      `${path}:4: duplicate id "pets-001" (already used on line 1). Ids must be unique within a file: rename one of them.`,
    );
    expect(error.line).toBe(4);
  });

  it('names a missing file and the config key to fix', async () => {
    const path = join(directory, 'nope.jsonl');
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(
      `${path}: file not found. Check the path, or set \`seeds.attributes\` in your --config file to an existing JSONL file.`,
    );
    expect(error.file).toBe(path);
    expect(error.line).toBeUndefined();
  });

  it('rejects a file without attributes', async () => {
    const path = await seedFile('empty.jsonl', ['# nothing here', '']);
    const error = await errorOf(loadSeedAttributes(path));
    expect(error.message).toBe(
      `${path}: no attributes found (every line is blank or a comment). Add one JSON object per line like {"id":"pets-001","category":"pets","text":"I have a dog."}`,
    );
  });
});

describe('loadSeedConversations', () => {
  const record = (id: string, turns: { speaker: string; text: string }[]) =>
    JSON.stringify({ id, user1_persona: ['I have a dog.'], user2_persona: ['I am a nurse.'], turns });
  const good = record('seed-001', [
    { speaker: 'User 1', text: 'Hi there!' },
    { speaker: 'User 2', text: 'Hello! Long shift today.' },
  ]);

  it('applies the pool record defaults', async () => {
    const path = await seedFile('conversations.jsonl', [good]);
    const [loaded] = await loadSeedConversations(path);
    expect(loaded).toMatchObject({ id: 'seed-001', source: 'seed', iteration: 0, score: 0 });
    expect(loaded.turns).toHaveLength(2);
  });

  it('allows an empty file (zero-shot)', async () => {
    const path = await seedFile('no-conversations.jsonl', ['# none']);
    expect(await loadSeedConversations(path)).toEqual([]);
  });

  it('names a nested field', async () => {
    const path = await seedFile('bad-speaker.jsonl', [
      good,
      record('seed-002', [
        { speaker: 'User 1', text: 'Hi' },
        { speaker: 'Bob', text: 'Hey' },
      ]),
    ]);
    const error = await errorOf(loadSeedConversations(path));
    expect(error.message).toBe(
      `${path}:2: field "turns[1].speaker": Invalid option: expected one of "User 1"|"User 2". ${CONVERSATION_HINT}`,
    );
  });

  it('names a missing field', async () => {
    const path = await seedFile('no-turns.jsonl', [
      '{"id":"seed-003","user1_persona":["a b c"],"user2_persona":["d e f"]}',
    ]);
    const error = await errorOf(loadSeedConversations(path));
    expect(error.message).toBe(`${path}:1: field "turns" is missing (expected array). ${CONVERSATION_HINT}`);
  });

  it('rejects turns that do not alternate from User 1', async () => {
    const path = await seedFile('order.jsonl', [
      record('seed-004', [
        { speaker: 'User 1', text: 'Hi' },
        { speaker: 'User 1', text: 'Anyone there?' },
      ]),
    ]);
    const error = await errorOf(loadSeedConversations(path));
    expect(error.message).toBe(
      `${path}:1: field "turns[1].speaker": expected "User 2" (turns alternate "User 1" / "User 2", starting with "User 1"). ${CONVERSATION_HINT}`,
    );
  });

  it('rejects a duplicate id naming both lines', async () => {
    const path = await seedFile('duplicate-conversations.jsonl', [good, '', good]);
    const error = await errorOf(loadSeedConversations(path));
    expect(error.message).toBe(
      `${path}:3: duplicate id "seed-001" (already used on line 1). Ids must be unique within a file: rename one of them.`,
    );
  });

  it('names a missing file and the config key to fix', async () => {
    const path = join(directory, 'missing-conversations.jsonl');
    const error = await errorOf(loadSeedConversations(path));
    expect(error.message).toContain('`seeds.conversations`');
    expect(error.message.startsWith(`${path}: file not found.`)).toBe(true);
  });
});
