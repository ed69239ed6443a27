import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { importDataset, importDatasetWithNotes } from '../../src/personas/importers/import-dataset.ts';
import { detectDatasetFormat } from '../../src/personas/importers/detect-dataset-format.ts';
import { parseSpeakerTurns, parseSpeakerTurnsDetailed } from '../../src/personas/importers/parse-speaker-turns.ts';
import { ImportedDatasetSchema } from '../../src/schemas/imported-dataset.ts';
import { ImportSummarySchema } from '../../src/schemas/import-summary.ts';
import { loadAttributeSource } from '../../src/personas/load-attribute-source.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'personas');
const fixture = (name: string) => join(fixtures, name);

/** The error of a strict import (the first record that cannot be imported stops it). */
async function importError(name: string): Promise<InputError> {
  const error = await importDataset(fixture(name), { strict: true }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('parseSpeakerTurns', () => {
  it('splits User 1 / User 2 lines into alternating turns', () => {
    expect(parseSpeakerTurns('User 1: Hi!\nUser 2: Hello!\r\nUser 1: How are you?')).toEqual([
      { speaker: 'User 1', text: 'Hi!' },
      { speaker: 'User 2', text: 'Hello!' },
      { speaker: 'User 1', text: 'How are you?' },
    ]);
  });

  it('tolerates emphasis, drops stage directions, appends continuation lines and merges repeated speakers', () => {
    const parsed = parseSpeakerTurnsDetailed(
      [
        '*User 1:* Hi',
        '**User 2:** Hey',
        '[A few minutes later]',
        'User 1: I baked',
        'a cake.',
        'User 1: Want some?',
        '* User 2: Sure! *',
        '* * *',
      ].join('\n'),
    );
    expect(parsed.turns).toEqual([
      { speaker: 'User 1', text: 'Hi' },
      { speaker: 'User 2', text: 'Hey' },
      { speaker: 'User 1', text: 'I baked a cake. Want some?' },
      { speaker: 'User 2', text: 'Sure!' },
    ]);
    expect(parsed).toMatchObject({ stageDirections: 2, continuationLines: 1, mergedTurns: 1, preambleLines: 0 });
  });

  it('takes an unlabeled opening before the first "User 2:" as User 1 and drops other preambles', () => {
    expect(parseSpeakerTurns('Hi there!\nI like jazz.\nUser 2: Me too.')).toEqual([
      { speaker: 'User 1', text: 'Hi there! I like jazz.' },
      { speaker: 'User 2', text: 'Me too.' },
    ]);
    expect(parseSpeakerTurns('Here is a conversation:\nUser 1: Hi\nUser 2: Hello')).toEqual([
      { speaker: 'User 1', text: 'Hi' },
      { speaker: 'User 2', text: 'Hello' },
    ]);
  });

  it('drops empty utterances without breaking alternation', () => {
    expect(parseSpeakerTurns('User 1: a\nUser 2:\nUser 1: b\nUser 2: c')).toEqual([
      { speaker: 'User 1', text: 'a b' },
      { speaker: 'User 2', text: 'c' },
    ]);
  });
});

describe('parseSpeakerTurns on messy speaker tags', () => {
  it('reads spaced emphasis, bold and italic tags and case/spacing variants, and names the repairs', () => {
    const parsed = parseSpeakerTurnsDetailed(
      ['* * User 1: * * Hello there!', '', '*User 2:* Hi!', '**user 1 :** How far?', 'USER2: Twenty miles.'].join('\n'),
    );
    expect(parsed.turns).toEqual([
      { speaker: 'User 1', text: 'Hello there!' },
      { speaker: 'User 2', text: 'Hi!' },
      { speaker: 'User 1', text: 'How far?' },
      { speaker: 'User 2', text: 'Twenty miles.' },
    ]);
    expect([...parsed.repairs].sort()).toEqual(['blank_lines', 'markdown_speaker_tags', 'speaker_label_variants']);
  });

  it('reads a conversation between two named speakers as User 1 (first named) and User 2', () => {
    const parsed = parseSpeakerTurnsDetailed("Larry: Hi, I'm Larry.\nAmy: Hi Larry!\n*At the bar*\nLarry: A drink?");
    expect(parsed.turns).toEqual([
      { speaker: 'User 1', text: "Hi, I'm Larry." },
      { speaker: 'User 2', text: 'Hi Larry!' },
      { speaker: 'User 1', text: 'A drink?' },
    ]);
    expect([...parsed.repairs].sort()).toEqual(['named_speakers', 'stage_directions']);
  });

  it('finds no turns in unlabeled lines or with three named speakers', () => {
    expect(parseSpeakerTurns('Hello, how are you?\nI am fine.')).toEqual([]);
    expect(parseSpeakerTurns('Ann: hi\nBob: hey\nCid: yo')).toEqual([]);
    expect(
      parseSpeakerTurns('Here is my recipe.\nIngredients: flour, eggs\nMix them well.\nBake for an hour.\nNote: enjoy'),
    ).toEqual([]);
  });
});

describe('detectDatasetFormat', () => {
  it('detects from content first, then the extension', () => {
    expect(detectDatasetFormat('a.txt', '{"id": "x"}')).toBe('jsonl');
    expect(detectDatasetFormat('a.csv', '1 your persona: i like dogs.')).toBe('persona-chat');
    expect(detectDatasetFormat('a.data', '\uFEFFuser 1 personas,user 2 personas,Best Generated Conversation')).toBe(
      'spc-csv',
    );
    expect(detectDatasetFormat('a.csv', 'a,b,c')).toBe('spc-csv');
  });
});

describe('importDataset: Persona-Chat ParlAI text', () => {
  it('reads a "both" file: personas by side, User 1 = first speaker, labels after the first "|" dropped, twins kept once', async () => {
    const { dataset, notes } = await importDatasetWithNotes(fixture('persona-chat-both-original.txt'));
    expect(ImportedDatasetSchema.parse(dataset)).toEqual(dataset);
    expect(dataset.format).toBe('persona-chat');
    expect(dataset.conversations).toHaveLength(2);
    expect(notes.duplicates).toBe(1);
    const [first, second] = dataset.conversations;
    expect(first.id).toBe('persona-chat-both-original-1');
    expect(first.user1_persona).toEqual(['i play the violin.', 'i live in a small town.', 'i am learning to cook.']);
    expect(first.user2_persona).toEqual(['i have two cats.', 'i work as a nurse.', 'my favorite color is green.']);
    expect(first.turns.slice(0, 2)).toEqual([
      { speaker: 'User 1', text: 'hi , how are you today ?' },
      { speaker: 'User 2', text: 'good ! just got home from a night shift at the hospital .' },
    ]);
    expect(first.turns).toHaveLength(6);
    expect(first).toMatchObject({ source: 'seed', iteration: 0, score: 0 });
    expect(second.user1_persona).toEqual(['i have a pet snake.', 'i am afraid of heights.']);
    expect(dataset.pairs.map((pair) => pair.id)).toEqual(dataset.conversations.map((record) => record.id));
    expect(dataset.pairs[0].user1).toEqual({ id: 'persona-chat-both-original-1-u1', attributes: first.user1_persona });
  });

  it('joins the two sides of a "self" (revised) file and reports a dialogue whose other side is missing', async () => {
    const { dataset, notes } = await importDatasetWithNotes(fixture('persona-chat-self-revised.txt'));
    expect(dataset.conversations).toHaveLength(1);
    expect(dataset.conversations[0].user1_persona).toEqual(['i take the bus everywhere.', 'i am a student.']);
    expect(dataset.conversations[0].user2_persona).toEqual(['i restore old motorcycles.', 'my dad was a mechanic.']);
    expect(dataset.conversations[0].turns.at(-1)).toEqual({
      speaker: 'User 2',
      text: 'my father taught me everything about engines .',
    });
    expect(notes.skipped).toEqual([
      {
        line: 9,
        reason: 'unknown_persona',
        message: "persona of User 1 unknown (a self/other-only file without the other side's copy of this dialogue)",
      },
    ]);
  });

  it('fails with file and line on malformed lines', async () => {
    expect((await importError('persona-chat-unnumbered.txt')).message).toBe(
      `${fixture('persona-chat-unnumbered.txt')}:2: expected a numbered ParlAI line such as "1 your persona: i like dogs." or "3 hi there<TAB>hello", got "partner's persona: i have a garden."`,
    );
    const numbering = await importError('persona-chat-bad-numbering.txt');
    expect(numbering.message).toBe(
      `${fixture('persona-chat-bad-numbering.txt')}:3: line number 4 does not follow 2: each episode numbers its lines 1, 2, 3, … and a new episode restarts at 1`,
    );
    expect(numbering.line).toBe(3);
    expect(numbering.file).toBe(fixture('persona-chat-bad-numbering.txt'));
    expect((await importError('persona-chat-no-tab.txt')).message).toBe(
      `${fixture('persona-chat-no-tab.txt')}:3: dialogue line has no tab-separated label: expected "3 <partner text><TAB><reply>", got "do you garden ? yes , tomatoes mostly ."`,
    );
    expect((await importError('persona-chat-self-single-side.txt')).message).toBe(
      `${fixture('persona-chat-self-single-side.txt')}: no episode has personas for both speakers (1 episodes read). ` +
        'Use a "both" variant (e.g. valid_both_original.txt) or a self/other file that contains each dialogue from both sides.',
    );
  });
});

describe('importDataset: Synthetic-Persona-Chat CSV', () => {
  it('reads newline-separated personas and cleans up the conversation', async () => {
    const { dataset, notes } = await importDatasetWithNotes(fixture('spc-small.csv'));
    expect(ImportedDatasetSchema.parse(dataset)).toEqual(dataset);
    expect(dataset.format).toBe('spc-csv');
    expect(dataset.conversations.map((record) => record.id)).toEqual(['spc-small-1', 'spc-small-2']);
    expect(dataset.conversations[0].user1_persona).toEqual([
      'I love to knit.',
      'I have three sisters.',
      'My favorite season is autumn.',
      'I work at a bakery.',
    ]);
    expect(dataset.conversations[0].user2_persona).toHaveLength(5);
    expect(dataset.conversations[1].turns).toEqual([
      { speaker: 'User 1', text: 'Do you play any games?' },
      { speaker: 'User 2', text: 'Not really, I spend my evenings sorting stamps.' },
      { speaker: 'User 1', text: 'I play chess every night with my twin brother. He always wins.' },
      { speaker: 'User 2', text: 'Ha! My wife flies planes and I have never been on one.' },
      { speaker: 'User 1', text: 'That is funny.' },
    ]);
    expect(notes.turnRepairs).toEqual({ preambleLines: 0, stageDirections: 1, continuationLines: 1, mergedTurns: 1 });
  });

  it('fails with file and line on malformed rows', async () => {
    expect((await importError('spc-empty-persona.csv')).message).toBe(
      `${fixture('spc-empty-persona.csv')}:4: column "user 1 personas" is empty: give one attribute per line`,
    );
    expect((await importError('spc-missing-column.csv')).message).toBe(
      `${fixture('spc-missing-column.csv')}:1: missing column(s) "user 2 personas", "Best Generated Conversation"; expected the header "user 1 personas,user 2 personas,Best Generated Conversation"`,
    );
    expect((await importError('spc-no-turns.csv')).message).toBe(
      `${fixture('spc-no-turns.csv')}:4: column "Best Generated Conversation" has 0 turn(s); expected "User 1: …" and "User 2: …" lines`,
    );
    const unclosed = await importError('spc-unclosed-quote.csv');
    expect(unclosed.line).toBe(4);
    expect(unclosed.message).toMatch(/^.*spc-unclosed-quote\.csv:4: malformed CSV: Invalid Closing Quote/);
  });
});

describe('importDataset: persona-forge JSONL', () => {
  it('reads pool records and dataset rows as seeds, with ids from the file when absent', async () => {
    const dataset = await importDataset(fixture('conversations.jsonl'));
    expect(ImportedDatasetSchema.parse(dataset)).toEqual(dataset);
    expect(dataset.format).toBe('jsonl');
    expect(dataset.conversations.map((record) => record.id)).toEqual(['seed-a', 'row-7', 'conversations-4']);
    expect(dataset.conversations[1]).toEqual({
      id: 'row-7',
      user1_persona: ['I bake bread.'],
      user2_persona: ['I am a dentist.'],
      turns: [
        { speaker: 'User 1', text: 'I just baked sourdough.' },
        { speaker: 'User 2', text: 'Sounds great, just brush afterwards!' },
      ],
      source: 'seed',
      iteration: 0,
      score: 0,
    });
  });

  it('fails with file and line on malformed lines', async () => {
    expect((await importError('jsonl-invalid-json.jsonl')).message).toBe(
      `${fixture('jsonl-invalid-json.jsonl')}:2: invalid JSON (Expected ',' or ']' after array element in JSON at position 106); each line must be one JSON object`,
    );
    expect((await importError('jsonl-missing-turns.jsonl')).message).toBe(
      `${fixture('jsonl-missing-turns.jsonl')}:1: not a conversation record (turns: Invalid input: expected array, received undefined); ` +
        'expected {"user1_persona": [...], "user2_persona": [...], "turns": [{"speaker": "User 1", "text": "..."}, ...]}',
    );
    expect((await importError('jsonl-duplicate-id.jsonl')).message).toBe(
      `${fixture('jsonl-duplicate-id.jsonl')}:2: duplicate id "a" (first used on line 1); ids must be unique`,
    );
  });
});

describe('importDataset: tolerant import with accounting', () => {
  it('SPC CSV: repairs what it can, skips the rest with line and reason, and counts both', async () => {
    const { dataset, summary } = await importDatasetWithNotes(fixture('spc-messy.csv'));
    ImportSummarySchema.parse(summary);
    expect(dataset.conversations).toHaveLength(5);
    expect(summary).toMatchObject({
      rows_read: 10,
      imported: 5,
      repaired: 3,
      repaired_by_kind: { markdown_speaker_tags: 2, blank_lines: 1, speaker_label_variants: 1, named_speakers: 1 },
      skipped: 5,
    });
    expect(summary.skipped_records.map(({ line, reason }) => [line, reason])).toEqual([
      [11, 'empty_conversation'],
      [12, 'no_recognizable_turns'],
      [23, 'one_speaker_only'],
      [25, 'malformed_csv_record'],
      [27, 'empty_persona'],
    ]);
    expect(summary.skipped_records[3].message).toMatch(/^malformed CSV: Invalid Closing Quote/);
    // The rows after a malformed record are still read, with their own lines.
    expect(dataset.conversations.at(-1)!.turns).toEqual([
      { speaker: 'User 1', text: 'Do you skate?' },
      { speaker: 'User 2', text: 'No, I write poems.' },
    ]);
    expect(dataset.conversations[1].turns.map((turn) => turn.text)).toEqual([
      'Hello there!',
      'Hi! I just finished a run.',
      'How far?',
      'Twenty miles.',
    ]);
  });

  it('SPC CSV with strict: the first unreadable row is the error naming file:line', async () => {
    const error = await importError('spc-messy.csv');
    expect(error.line).toBe(11);
    expect(error.message).toBe(
      `${fixture('spc-messy.csv')}:11: column "Best Generated Conversation" is empty; expected "User 1: …" and "User 2: …" lines`,
    );
  });

  it('Persona-Chat text: skips an episode with a broken line or no dialogue, drops an empty persona line', async () => {
    const { dataset, summary } = await importDatasetWithNotes(fixture('persona-chat-messy.txt'));
    expect(dataset.conversations).toHaveLength(1);
    expect(dataset.conversations[0].user2_persona).toEqual(['i like jazz.']);
    expect(summary).toMatchObject({
      rows_read: 4,
      imported: 1,
      repaired: 1,
      repaired_by_kind: { empty_persona_lines: 1 },
    });
    expect(summary.skipped_records.map(({ line, reason }) => [line, reason])).toEqual([
      [3, 'malformed_episode'],
      [12, 'malformed_episode'],
      [14, 'no_dialogue_lines'],
    ]);
  });

  it('JSONL: normalizes speaker variants and drops blank utterances; skips bad JSON, empty and duplicate records', async () => {
    const { dataset, summary } = await importDatasetWithNotes(fixture('jsonl-messy.jsonl'));
    expect(dataset.conversations.map((record) => record.id)).toEqual(['a', 'c']);
    expect(dataset.conversations[1].turns).toEqual([
      { speaker: 'User 1', text: 'hi' },
      { speaker: 'User 2', text: 'hey' },
    ]);
    expect(dataset.conversations[1].user1_persona).toEqual(['I bake.']);
    expect(summary).toMatchObject({
      rows_read: 6,
      imported: 2,
      repaired: 1,
      repaired_by_kind: { empty_persona_lines: 1, speaker_label_variants: 1, empty_turns: 1 },
      skipped_by_reason: { invalid_json: 1, empty_conversation: 1, duplicate_id: 1, not_a_conversation_record: 1 },
    });
    expect(summary.skipped_records.map(({ line }) => line)).toEqual([2, 5, 6, 7]);
  });

  it('attributes JSONL (expand --seeds, profiles --attributes): skips bad lines with their reason', async () => {
    const { attributes, summary } = await loadAttributeSource(fixture('attributes-messy.jsonl'));
    expect(attributes.map((attribute) => attribute.id)).toEqual(['a-1', 'a-4']);
    expect(summary.skipped_records.map(({ line, reason }) => [line, reason])).toEqual([
      [2, 'invalid_json'],
      [4, 'not_an_attribute_record'],
      [5, 'duplicate_id'],
    ]);
    await expect(loadAttributeSource(fixture('attributes-messy.jsonl'), { strict: true })).rejects.toThrow(
      `${fixture('attributes-messy.jsonl')}:2: invalid JSON`,
    );
  });

  it('names the right lines in a CRLF file with blank lines between records', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'pf-importers-')), 'crlf.csv');
    await writeFile(
      file,
      'user 1 personas,user 2 personas,Best Generated Conversation\r\n"I run.","I swim.","User 1: hi\r\nUser 2: hey"\r\n\r\n' +
        '"I ski.","I surf.",""\r\n"I read.","I write.","User 1: x\r\nUser 2: y"\r\n',
    );
    const { dataset, summary } = await importDatasetWithNotes(file);
    expect(dataset.conversations).toHaveLength(2);
    expect(summary.skipped_records.map(({ line, reason }) => [line, reason])).toEqual([[5, 'empty_conversation']]);
  });

  it('fails on a file where every record is skipped, naming the first', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'pf-importers-')), 'all-bad.csv');
    await writeFile(
      file,
      'user 1 personas,user 2 personas,Best Generated Conversation\n"I run.","I swim.",""\n"I ski.","I surf.","hello"\n',
    );
    await expect(importDataset(file)).rejects.toThrow(
      `${file}:2: no conversations found in this spc-csv file: all 2 records were skipped (the first: column "Best Generated Conversation" is empty;`,
    );
  });
});

describe('importDataset: unknown input', () => {
  it('lists the supported formats when it cannot tell the format', async () => {
    expect((await importError('unknown-format.dat')).message).toBe(
      `${fixture('unknown-format.dat')}:1: cannot tell the dataset format from the first line ("Once upon a time there were two users."). Supported formats:\n` +
        '  - persona-chat: Persona-Chat / ConvAI2 ParlAI text (.txt; "1 your persona: …" and "N text<TAB>label" lines)\n' +
        '  - spc-csv: Synthetic-Persona-Chat CSV (.csv; columns "user 1 personas", "user 2 personas", "Best Generated Conversation")\n' +
        '  - jsonl: persona-forge JSONL (.jsonl; pool records or dataset rows with user1_persona, user2_persona, turns)',
    );
  });

  it('says when the file does not exist', async () => {
    expect((await importError('missing.csv')).message).toBe(
      `${fixture('missing.csv')}: file not found; pass the path of a seed dataset file`,
    );
  });

  it('honours an explicit format', async () => {
    await expect(importDataset(fixture('spc-small.csv'), { format: 'jsonl' })).rejects.toThrow(
      /spc-small.csv:1: no conversations found in this jsonl file: all 27 records were skipped \(the first: invalid JSON/,
    );
  });
});

const SPC_VALID = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'synthetic-persona-chat', 'valid.csv');
if (!existsSync(SPC_VALID)) {
  console.warn(
    `[personas-importers] SKIPPED the SPC valid.csv test: ${SPC_VALID} is absent (it lives in ../shared beside the repo).`,
  );
}

describe.skipIf(!existsSync(SPC_VALID))('importDataset on the released SPC valid split', () => {
  it('reads 1,000 conversations with 4–5 attributes per profile and alternating turns', async () => {
    const started = performance.now();
    const { dataset, notes, summary } = await importDatasetWithNotes(SPC_VALID);
    const elapsedMs = performance.now() - started;
    expect(dataset.format).toBe('spc-csv');
    expect(dataset.conversations).toHaveLength(1000);
    expect(dataset.pairs).toHaveLength(1000);
    for (const record of dataset.conversations) {
      expect(record.user1_persona.length).toBeGreaterThanOrEqual(4);
      expect(record.user1_persona.length).toBeLessThanOrEqual(5);
      expect(record.user2_persona.length).toBeGreaterThanOrEqual(4);
      expect(record.user2_persona.length).toBeLessThanOrEqual(5);
      expect(record.turns.length).toBeGreaterThanOrEqual(2);
      expect(record.turns[0].speaker).toBe('User 1');
      record.turns.forEach((turn, index) => expect(turn.speaker).toBe(index % 2 === 0 ? 'User 1' : 'User 2'));
    }
    ImportedDatasetSchema.parse(dataset);
    // Every messy row of the split is repaired and counted; none needs skipping.
    expect(summary).toMatchObject({
      rows_read: 1000,
      imported: 1000,
      repaired: 64,
      repaired_by_kind: {
        blank_lines: 44,
        merged_turns: 23,
        stage_directions: 20,
        continuation_lines: 4,
        markdown_speaker_tags: 3,
        preamble: 1,
      },
      skipped: 0,
      duplicates: 0,
    });
    const turnCounts = dataset.conversations.map((record) => record.turns.length).sort((left, right) => left - right);
    console.info(
      `[personas-importers] valid.csv: ${dataset.conversations.length} conversations in ${elapsedMs.toFixed(0)} ms; ` +
        `median ${turnCounts[500]} turns; repairs ${JSON.stringify(notes.turnRepairs)}`,
    );
  });
});
