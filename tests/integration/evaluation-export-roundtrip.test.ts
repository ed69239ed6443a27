import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConversations } from '../../src/evaluation/load-conversations.ts';
import { exportDataset, type ExportFormat } from '../../src/output/export-dataset.ts';
import { renderPersonaChat } from '../../src/output/export-persona-chat.ts';
import { importDataset } from '../../src/personas/importers/import-dataset.ts';
import { createRunDirectory, type SyntheticRun } from '../fixtures/evaluation/create-run-directory.ts';

let directory: string;
let run: SyntheticRun;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pf-export-'));
  // Hostile text: quotes, commas, `&`, `<script>`: all must survive CSV quoting and the text formats.
  run = await createRunDirectory(join(directory, 'run'), { iterations: 2, pairsPerIteration: 5, hostileText: true });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const essence = (
  conversations: readonly {
    user1_persona: readonly string[];
    user2_persona: readonly string[];
    turns: readonly { speaker: string; text: string }[];
  }[],
) =>
  conversations.map((conversation) => ({
    user1_persona: [...conversation.user1_persona],
    user2_persona: [...conversation.user2_persona],
    turns: conversation.turns.map((turn) => ({ speaker: turn.speaker, text: turn.text })),
  }));

describe('export then import gives the same conversations', () => {
  it.each<[ExportFormat, string]>([
    ['spc-csv', 'out.csv'],
    ['persona-chat', 'out.txt'],
    ['jsonl', 'out.jsonl'],
  ])('%s', async (format, name) => {
    const loaded = await loadConversations(run.dir);
    expect(loaded.conversations.length).toBe(run.rows.length);
    const path = join(directory, name);
    const result = await exportDataset(
      { conversations: loaded.conversations, rows: loaded.rows, path: run.dir },
      format,
      path,
    );
    expect(result).toMatchObject({ format, conversations: run.rows.length, notes: [] });
    const imported = await importDataset(path);
    expect(imported.format).toBe(format);
    expect(essence(imported.conversations)).toEqual(essence(run.rows));
    expect(JSON.stringify(imported.conversations)).toContain('<script>window.__pwned');
  });

  it('jsonl of a run keeps full dataset rows', async () => {
    const path = join(directory, 'rows.jsonl');
    const loaded = await loadConversations(run.dir);
    await exportDataset({ conversations: loaded.conversations, rows: loaded.rows, path: run.dir }, 'jsonl', path);
    const reread = await loadConversations(path);
    expect(reread.rows).toEqual(run.rows);
  });

  it('parquet keeps full dataset rows (nested lists and structs)', async () => {
    const path = join(directory, 'out.parquet');
    const loaded = await loadConversations(run.dir);
    const result = await exportDataset(
      { conversations: loaded.conversations, rows: loaded.rows, path: run.dir },
      'parquet',
      path,
    );
    expect(result.conversations).toBe(run.rows.length);
    const reread = await loadConversations(path);
    expect(reread.kind).toBe('parquet');
    expect(reread.rows).toEqual(run.rows);
  });

  it('SPC CSV -> Persona-Chat -> SPC CSV is stable for an imported file', async () => {
    const csv = join(directory, 'seed.csv');
    await writeFile(
      csv,
      'user 1 personas,user 2 personas,Best Generated Conversation\r\n' +
        '"I like tea.\nI have a dog.","I am a pilot.\nI love ""quotes"", commas.","User 1: Hi, friend!\nUser 2: Hello | there, ""you"".\nUser 1: Bye.\nUser 2: See you."\r\n',
    );
    const first = await loadConversations(csv);
    const text = join(directory, 'seed.txt');
    const result = await exportDataset(
      { conversations: first.conversations, rows: first.rows, path: csv },
      'persona-chat',
      text,
    );
    // ParlAI reads `|` in a reply as a separator of alternative labels: it is replaced and reported.
    expect(result.notes.join()).toMatch(/"\|"/);
    const second = await loadConversations(text);
    expect(second.conversations[0].turns[1].text).toBe('Hello / there, "you".');
    expect(essence(second.conversations)[0].user2_persona).toEqual(['I am a pilot.', 'I love "quotes", commas.']);
    const back = join(directory, 'back.csv');
    await exportDataset({ conversations: second.conversations, rows: null, path: text }, 'spc-csv', back);
    expect(readFileSync(back, 'utf8')).toContain(
      '"User 1: Hi, friend!\nUser 2: Hello / there, ""you"".\nUser 1: Bye.\nUser 2: See you."',
    );
  });
});

describe('Persona-Chat export notes what the format cannot hold', () => {
  it('reports merged turns, a start by User 2 and a dropped trailing utterance', () => {
    const { text, notes } = renderPersonaChat([
      {
        id: 'x',
        user1_persona: ['I like tea.'],
        user2_persona: ['I am a pilot.'],
        turns: [
          { speaker: 'User 2', text: 'I start.' },
          { speaker: 'User 1', text: 'Hi.' },
          { speaker: 'User 1', text: 'Twice.' },
          { speaker: 'User 2', text: 'Unanswered.' },
        ],
      },
    ]);
    expect(notes).toEqual({ mergedTurns: 1, startedWithUser2: 1, droppedTrailingUtterances: 1, replacedPipes: 0 });
    expect(text.split('\n')[0]).toBe('1 your persona: I like tea.');
    expect(text).toContain("2 partner's persona: I am a pilot.");
    expect(text).toContain('3 I start.\tHi. Twice.');
    expect(text).not.toContain('Unanswered');
  });
});
