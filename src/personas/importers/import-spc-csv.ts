import { parse, type CsvError } from 'csv-parse/sync';
import type { ImportedDataset } from '../../schemas/imported-dataset.ts';
import { InputError } from '../../errors.ts';
import { buildSeedRecord, fileStem } from './build-seed-record.ts';
import { noteImported, skipRecord, type ImportNotes } from './import-notes.ts';
import { parseSpeakerTurnsDetailed } from './parse-speaker-turns.ts';

/** The columns of Synthetic-Persona-Chat's CSV release (matched case- and space-insensitively). */
export const SPC_COLUMNS = ['user 1 personas', 'user 2 personas', 'Best Generated Conversation'] as const;

/** Attributes one profile may hold. */
const MAX_ATTRIBUTES = 10;

/**
 * Reads Synthetic-Persona-Chat CSV: personas are newline-separated sentences, the conversation is
 * `User 1:` / `User 2:` lines (see `parseSpeakerTurns` for the repairs applied). Extra columns are
 * ignored. A record csv-parse cannot read (bad quoting, a field count other than the header's), an
 * empty persona or conversation, or a conversation without two speakers is skipped with its line
 * (csv-parse's `skip_records_with_error` and `on_skip`), or, with `notes.strict`, is the error.
 */
export function importSpcCsv(text: string, file: string, notes: ImportNotes): ImportedDataset {
  const malformed = new Map<number, string>();
  let rows: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    // One line ending: with CRLF csv-parse counts lines (info.lines, error.lines) off by one per record.
    rows = parse(text.replace(/\r\n?/g, '\n'), {
      bom: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined, raw: string | undefined) => {
        if (!error) return undefined;
        const line = startLine(Number(error.lines), raw ?? '');
        // csv-parse may report one bad record twice (a bad quote, then its field count): warn once.
        if (!malformed.has(line)) malformed.set(line, error.message);
        return undefined;
      },
    }) as unknown as typeof rows;
  } catch (error) {
    const csvError = error as { message?: string; lines?: number };
    throw new InputError(`malformed CSV: ${csvError.message ?? String(error)}`, file, csvError.lines);
  }
  if (rows.length === 0) {
    const [line, message] = [...malformed.entries()][0] ?? [1, undefined];
    throw new InputError(
      message ? `malformed CSV header: ${message}` : 'empty CSV: expected a header row and at least one row',
      file,
      line,
    );
  }

  const header = rows[0].record.map(normalizeColumn);
  const headerLine = startLine(rows[0].info.lines, rows[0].raw);
  // A header csv-parse could not read was skipped: the first record read is then a data row.
  const badHeader = [...malformed.entries()].find(([line]) => line < headerLine);
  if (badHeader) throw new InputError(`malformed CSV header: ${badHeader[1]}`, file, badHeader[0]);
  const columnIndex = SPC_COLUMNS.map((column) => header.indexOf(normalizeColumn(column)));
  const missing = SPC_COLUMNS.filter((_, position) => columnIndex[position] === -1);
  if (missing.length > 0) {
    throw new InputError(
      `missing column(s) ${missing.map((column) => `"${column}"`).join(', ')}; expected the header "${SPC_COLUMNS.join(',')}"`,
      file,
      headerLine,
    );
  }
  const [user1Column, user2Column, conversationColumn] = columnIndex;

  // Records in file order, the unreadable ones where they stood.
  const records = [
    ...rows.slice(1).map(({ record, info, raw }) => ({ line: startLine(info.lines, raw), record })),
    ...[...malformed.entries()].map(([line, message]) => ({ line, record: undefined, message })),
  ].sort((left, right) => left.line - right.line);

  const stem = fileStem(file);
  const dataset: ImportedDataset = { format: 'spc-csv', path: file, conversations: [], pairs: [] };
  for (const entry of records) {
    const { line, record } = entry;
    if (record === undefined) {
      const message = (entry as { message: string }).message;
      skipRecord(notes, file, { line, reason: 'malformed_csv_record', message: `malformed CSV: ${message}` });
      continue;
    }
    const user1Persona = splitPersona(record[user1Column]);
    const user2Persona = splitPersona(record[user2Column]);
    const personaProblem = checkPersonas(user1Persona, user2Persona);
    if (personaProblem) {
      skipRecord(notes, file, { line, ...personaProblem });
      continue;
    }
    const conversation = record[conversationColumn] ?? '';
    if (conversation.trim() === '') {
      skipRecord(notes, file, {
        line,
        reason: 'empty_conversation',
        message: 'column "Best Generated Conversation" is empty; expected "User 1: …" and "User 2: …" lines',
      });
      continue;
    }
    const parsed = parseSpeakerTurnsDetailed(conversation);
    if (parsed.turns.length < 2) {
      skipRecord(notes, file, {
        line,
        reason: parsed.turns.length === 0 ? 'no_recognizable_turns' : 'one_speaker_only',
        message: `column "Best Generated Conversation" has ${parsed.turns.length} turn(s); expected "User 1: …" and "User 2: …" lines`,
      });
      continue;
    }
    notes.turnRepairs.preambleLines += parsed.preambleLines;
    notes.turnRepairs.stageDirections += parsed.stageDirections;
    notes.turnRepairs.continuationLines += parsed.continuationLines;
    notes.turnRepairs.mergedTurns += parsed.mergedTurns;
    noteImported(notes, parsed.repairs);
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

/**
 * 1-based line where a record starts. csv-parse reports the line it had reached (`info.lines`,
 * `error.lines`) and the raw text read so far (line endings already `\n`): a trailing record
 * delimiter is not yet counted.
 */
function startLine(reachedLine: number, raw: string): number {
  // Blank lines skipped before the record are in `raw` too, but the record starts after them.
  const newlines =
    raw
      .replace(/^(?:[ \t]*\n)+/, '')
      .replace(/\n$/, '')
      .match(/\n/g)?.length ?? 0;
  return Math.max(1, reachedLine - newlines);
}

function checkPersonas(
  user1Persona: string[],
  user2Persona: string[],
): { reason: 'empty_persona' | 'too_many_attributes'; message: string } | undefined {
  for (const [label, persona] of [
    ['user 1 personas', user1Persona],
    ['user 2 personas', user2Persona],
  ] as const) {
    if (persona.length === 0)
      return { reason: 'empty_persona', message: `column "${label}" is empty: give one attribute per line` };
    if (persona.length > MAX_ATTRIBUTES) {
      return {
        reason: 'too_many_attributes',
        message: `column "${label}" has ${persona.length} attributes; a profile holds at most ${MAX_ATTRIBUTES}`,
      };
    }
  }
  return undefined;
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
