import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileWriter, parquetWriteRows, type SchemaElement } from 'hyparquet-writer';
import { loadConversations } from '../../src/evaluation/load-conversations.ts';
import { createRunDirectory } from '../fixtures/evaluation/create-run-directory.ts';

const string = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'REQUIRED',
});
const list = (name: string, element: SchemaElement[]): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ...element,
];
/** Conversations only (not full dataset rows), as another tool might write them. */
const SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 4 },
  string('id'),
  ...list('user1_persona', [string('element')]),
  ...list('user2_persona', [string('element')]),
  ...list('turns', [
    { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
    string('speaker'),
    string('text'),
  ]),
];

const turns = (speakers: string[]) => speakers.map((speaker, index) => ({ speaker, text: `utterance ${index + 1}` }));
const ROWS = [
  { id: 'a', user1_persona: ['I swim.'], user2_persona: ['I run.'], turns: turns(['User 1', 'User 2']) },
  { id: 'b', user1_persona: ['I ski.'], user2_persona: ['I surf.'], turns: turns(['User 1', 'Narrator']) },
  { id: 'c', user1_persona: ['I read.'], user2_persona: ['I write.'], turns: turns(['User 1', 'User 2', 'User 1']) },
];

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pf-parquet-import-'));
  file = join(dir, 'conversations.parquet');
  await parquetWriteRows({
    writer: fileWriter(file),
    rows: ROWS,
    columns: ['id', 'user1_persona', 'user2_persona', 'turns'].map((name) => ({ name })),
    schema: SCHEMA,
  });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('loadConversations on a Parquet file with a bad row', () => {
  it('skips the row with its row number and reason, and counts it', async () => {
    const loaded = await loadConversations(file);
    expect(loaded.conversations.map((conversation) => conversation.id)).toEqual(['a', 'c']);
    expect(loaded.importSummary).toMatchObject({ format: 'parquet', rows_read: 3, imported: 2, skipped: 1 });
    expect(loaded.importSummary!.skipped_records).toEqual([
      {
        line: 2,
        reason: 'not_a_conversation_record',
        message: expect.stringMatching(/^row 2: field "turns\.1\.speaker": /),
      },
    ]);
  });

  it('with strict, the bad row is the error naming file and row', async () => {
    await expect(loadConversations(file, { strict: true })).rejects.toThrow(
      `${file}:2: row 2: field "turns.1.speaker"`,
    );
  });
});

describe('loadConversations on a JSONL of dataset rows with a broken line', () => {
  it('keeps the full rows (iterations included) of every readable line and skips the broken one', async () => {
    const run = await createRunDirectory(join(dir, 'run'));
    const lines = run.rows.map((row) => JSON.stringify(row));
    lines.splice(2, 0, lines[2].slice(0, 40));
    const file = join(dir, 'rows.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    const loaded = await loadConversations(file);
    expect(loaded.rows?.map((row) => row.id)).toEqual(run.rows.map((row) => row.id));
    expect(loaded.conversations.map((conversation) => conversation.iteration)).toEqual(
      run.rows.map((row) => row.iteration),
    );
    expect(loaded.importSummary).toMatchObject({
      imported: run.rows.length,
      skipped: 1,
      skipped_by_reason: { invalid_json: 1 },
    });
    expect(loaded.importSummary!.skipped_records[0].line).toBe(3);
  });
});
