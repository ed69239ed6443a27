import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { InputError } from '../errors.ts';
import { importDatasetWithNotes } from '../personas/importers/import-dataset.ts';
import { emptyImportNotes, skipRecord, noteImported, summarizeImport } from '../personas/importers/import-notes.ts';
import type { ImportSummary } from '../schemas/import-summary.ts';
import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { ParquetConversationSchema } from '../schemas/parquet-conversation.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import { readJsonlLines } from '../output/read-jsonl-lines.ts';

/** Conversations read from a run directory or a dataset file. */
export interface LoadedConversations {
  path: string;
  /** `run` for a run directory, otherwise the file format. */
  kind: 'run' | 'jsonl' | 'spc-csv' | 'persona-chat' | 'parquet';
  runId: string | null;
  conversations: EvaluatedConversation[];
  /** Full dataset rows when the source holds them (run directory, our JSONL or Parquet rows). */
  rows: DatasetRow[] | null;
  /** What the import read, repaired and skipped (dataset files; null for a run directory). */
  importSummary: ImportSummary | null;
}

/** Options of `loadConversations`. */
export interface LoadConversationsOptions {
  /** Stop with an `InputError` naming `file:line` at the first record that cannot be imported. @defaultValue false */
  strict?: boolean;
}

/**
 * Reads conversations from a run directory (`conversations.jsonl`, dataset rows with their
 * iterations), a Parquet file written by persona-forge, or any file `importDataset` reads
 * (Persona-Chat text, SPC CSV, our JSONL: autodetected). JSONL files of dataset rows keep their rows.
 * Records of a dataset file that cannot be read are skipped and counted in `importSummary` (with
 * `strict`: the first one is the error).
 */
export async function loadConversations(
  path: string,
  options: LoadConversationsOptions = {},
): Promise<LoadedConversations> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new InputError('no such file or directory; pass a run directory or a dataset file', path);

  if (info.isDirectory()) {
    const file = join(path, 'conversations.jsonl');
    if (!(await stat(file).catch(() => null))) {
      throw new InputError(
        'not a run directory (no conversations.jsonl); pass a run directory or a dataset file',
        path,
      );
    }
    const rows = await readDatasetRows(file, { tolerateTornTail: true });
    return { path, kind: 'run', runId: rows[0]?.run_id ?? null, conversations: rows, rows, importSummary: null };
  }

  if (path.toLowerCase().endsWith('.parquet')) return loadParquet(path, options);

  const { dataset, summary } = await importDatasetWithNotes(path, { strict: options.strict });
  let rows: DatasetRow[] | null = null;
  if (dataset.format === 'jsonl') rows = await readImportedDatasetRows(path, summary);
  return {
    path,
    kind: dataset.format,
    runId: rows?.[0]?.run_id ?? null,
    // Imported records carry the pool's `iteration: 0` (seed); only dataset rows have real iterations.
    conversations:
      rows ??
      dataset.conversations.map(({ id, user1_persona, user2_persona, turns }) => ({
        id,
        user1_persona,
        user2_persona,
        turns,
      })),
    rows,
    importSummary: summary,
  };
}

/** Dataset rows of a run's `conversations.jsonl`: every line must be one (a torn last line is passed over). */
async function readDatasetRows(file: string, options: { tolerateTornTail: boolean }): Promise<DatasetRow[]> {
  const rows: DatasetRow[] = [];
  await readJsonlLines(
    file,
    (value, line) => {
      const parsed = DatasetRowSchema.safeParse(value);
      if (parsed.success) {
        rows.push(parsed.data);
        return;
      }
      const issue = parsed.error.issues[0];
      throw new InputError(`not a dataset row: field "${issue.path.join('.')}": ${issue.message}`, file, line);
    },
    { tolerateTornTail: options.tolerateTornTail },
  );
  return rows;
}

/**
 * The full dataset rows of an imported JSONL file when every imported line is one (the lines the
 * import skipped are left out); null when some line is a plain conversation record, which is then
 * read from the import (with its repairs).
 */
async function readImportedDatasetRows(file: string, summary: ImportSummary): Promise<DatasetRow[] | null> {
  const skipped = new Set(summary.skipped_records.map((record) => record.line));
  const rows: DatasetRow[] = [];
  const lines = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index].trim();
    if (text === '' || skipped.has(index + 1)) continue;
    const parsed = DatasetRowSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return null;
    rows.push(parsed.data);
  }
  return rows;
}

async function loadParquet(path: string, options: LoadConversationsOptions): Promise<LoadedConversations> {
  let records: Record<string, unknown>[];
  try {
    records = (await parquetReadObjects({ file: await asyncBufferFromFile(path) })) as Record<string, unknown>[];
  } catch (error) {
    throw new InputError(`cannot read Parquet (${(error as Error).message})`, path);
  }
  const notes = emptyImportNotes({ strict: options.strict });
  const rows: DatasetRow[] = [];
  const conversations: EvaluatedConversation[] = [];
  records.forEach((record, index) => {
    const normalized = normalizeParquetValue(record);
    const parsed = ParquetConversationSchema.safeParse(normalized);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // Parquet has no lines: the "line" of a record is its 1-based row number.
      skipRecord(notes, path, {
        line: index + 1,
        reason: 'not_a_conversation_record',
        message: `row ${index + 1}: field "${issue.path.join('.')}": ${issue.message}; expected persona-forge dataset rows`,
      });
      return;
    }
    noteImported(notes);
    const row = DatasetRowSchema.safeParse(normalized);
    if (row.success) rows.push(row.data);
    conversations.push({
      id: parsed.data.id ?? `row-${index + 1}`,
      iteration: parsed.data.iteration === undefined ? undefined : Number(parsed.data.iteration),
      user1_persona: parsed.data.user1_persona,
      user2_persona: parsed.data.user2_persona,
      turns: parsed.data.turns,
    });
  });
  if (conversations.length === 0) {
    const first = notes.skipped[0];
    throw new InputError(
      first
        ? `no conversations found: all ${notes.skipped.length} rows were skipped (the first: ${first.message})`
        : 'no rows found',
      path,
      first?.line,
    );
  }
  const allRows = rows.length === conversations.length;
  return {
    path,
    kind: 'parquet',
    runId: rows[0]?.run_id ?? null,
    conversations: allRows ? rows : conversations,
    rows: allRows ? rows : null,
    importSummary: summarizeImport(notes, path, 'parquet'),
  };
}

/** hyparquet reads INT64 as bigint, timestamps as Date and MAP columns as objects; dataset rows want numbers and ISO text. */
function normalizeParquetValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalizeParquetValue);
  if (value && typeof value === 'object') {
    // An OPTIONAL column reads back as null where the row had no value: leave the field out, as in JSONL.
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, inner]) => inner !== null)
        .map(([key, inner]) => [key, normalizeParquetValue(inner)]),
    );
  }
  return value;
}
