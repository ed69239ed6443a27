import { parse } from 'csv-parse/sync';
import type { ImportedDataset } from '../../schemas/imported-dataset.ts';
import { InputError } from '../../errors.ts';
import { buildSeedRecord, fileStem } from './build-seed-record.ts';
import type { ImportNotes } from './import-notes.ts';
import { parseSpeakerTurnsDetailed } from './parse-speaker-turns.ts';

/** The columns of Synthetic-Persona-Chat's CSV release (matched case- and space-insensitively). */
export const SPC_COLUMNS = ['user 1 personas', 'user 2 personas', 'Best Generated Conversation'] as const;

/**
 * Reads Synthetic-Persona-Chat CSV: personas are newline-separated sentences, the conversation is
 * `User 1:` / `User 2:` lines (see `parseSpeakerTurns` for the clean-up applied). Extra columns are
 * ignored. A row whose personas are empty or whose conversation has fewer than two turns is an error
 * naming its line.
 */
export function importSpcCsv(text: string, file: string, notes: ImportNotes): ImportedDataset {
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof rows;
  } catch (error) {
    const csvError = error as { message?: string; lines?: number };
    throw new InputError(`malformed CSV: ${csvError.message ?? String(error)}`, file, csvError.lines);
  }
  if (rows.length === 0) throw new InputError('empty CSV: expected a header row and at least one row', file, 1);

  const header = rows[0].record.map(normalizeColumn);
  const columnIndex = SPC_COLUMNS.map((column) => header.indexOf(normalizeColumn(column)));
  const missing = SPC_COLUMNS.filter((_, position) => columnIndex[position] === -1);
  if (missing.length > 0) {
    throw new InputError(
      `missing column(s) ${missing.map((column) => `"${column}"`).join(', ')}; expected the header "${SPC_COLUMNS.join(',')}"`,
      file,
      1,
    );
  }
  const [user1Column, user2Column, conversationColumn] = columnIndex;

  const stem = fileStem(file);
  const dataset: ImportedDataset = { format: 'spc-csv', path: file, conversations: [], pairs: [] };
  let previousEndLine = rows[0].info.lines;
  for (const { record, info } of rows.slice(1)) {
    // `info.lines` is the line where the record ends; it starts on the line after the previous one.
    const line = previousEndLine + 1;
    previousEndLine = info.lines;
    const user1Persona = splitPersona(record[user1Column]);
    const user2Persona = splitPersona(record[user2Column]);
    for (const [label, persona] of [
      ['user 1 personas', user1Persona],
      ['user 2 personas', user2Persona],
    ] as const) {
      if (persona.length === 0)
        throw new InputError(`column "${label}" is empty: give one attribute per line`, file, line);
      if (persona.length > 10) {
        throw new InputError(
          `column "${label}" has ${persona.length} attributes; a profile holds at most 10`,
          file,
          line,
        );
      }
    }
    const parsed = parseSpeakerTurnsDetailed(record[conversationColumn] ?? '');
    if (parsed.turns.length < 2) {
      throw new InputError(
        `column "Best Generated Conversation" has ${parsed.turns.length} turn(s); expected "User 1: …" and "User 2: …" lines`,
        file,
        line,
      );
    }
    notes.turnRepairs.preambleLines += parsed.preambleLines;
    notes.turnRepairs.stageDirections += parsed.stageDirections;
    notes.turnRepairs.continuationLines += parsed.continuationLines;
    notes.turnRepairs.mergedTurns += parsed.mergedTurns;
    const { record: poolRecord, pair } = buildSeedRecord({
      id: `${stem}-${dataset.conversations.length + 1}`,
      user1Persona,
      user2Persona,
      turns: parsed.turns,
    });
    dataset.conversations.push(poolRecord);
    dataset.pairs.push(pair);
  }
  return dataset;
}

function normalizeColumn(column: string): string {
  return column.trim().replace(/\s+/g, ' ').toLowerCase();
}

function splitPersona(cell: string | undefined): string[] {
  return (cell ?? '')
    .split(/\r?\n/)
    .map((attribute) => attribute.trim())
    .filter((attribute) => attribute !== '');
}
