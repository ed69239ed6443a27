import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { importDatasetWithNotes } from '../personas/importers/import-dataset.ts';
import type { ImportNotes } from '../personas/importers/import-notes.ts';
import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { TurnSchema } from '../schemas/turn.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import { readJsonlLines } from './read-jsonl-lines.ts';

/** Conversations read from a run directory or a dataset file. */
export interface LoadedConversations {
  path: string;
  /** `run` for a run directory, otherwise the file format. */
  kind: 'run' | 'jsonl' | 'spc-csv' | 'persona-chat' | 'parquet';
  runId: string | null;
  conversations: EvaluatedConversation[];
  /** Full dataset rows when the source holds them (run directory, our JSONL or Parquet rows). */
  rows: DatasetRow[] | null;
  /** What the importer skipped, joined or repaired (imported files only). */
  importNotes: ImportNotes | null;
}

/** A Parquet row as read by hyparquet: only what evaluation needs is checked. */
const ParquetConversationSchema = z.object({
  id: z.string().optional(),
  iteration: z.union([z.number(), z.bigint()]).optional(),
  user1_persona: z.array(z.string()),
  user2_persona: z.array(z.string()),
  turns: z.array(TurnSchema),
});

/**
 * Reads conversations from a run directory (`conversations.jsonl`, dataset rows with their
 * iterations), a Parquet file written by persona-forge, or any file `importDataset` reads
 * (Persona-Chat text, SPC CSV, our JSONL: autodetected). JSONL files of dataset rows keep their rows.
 */
export async function loadConversations(path: string): Promise<LoadedConversations> {
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
    const rows = (await readDatasetRows(file, { tolerateTornTail: true }))!;
    return { path, kind: 'run', runId: rows[0]?.run_id ?? null, conversations: rows, rows, importNotes: null };
  }

  if (path.toLowerCase().endsWith('.parquet')) return loadParquet(path);

  const { dataset, notes } = await importDatasetWithNotes(path);
  let rows: DatasetRow[] | null = null;
  if (dataset.format === 'jsonl') rows = await readDatasetRows(path, { tolerateTornTail: false, optional: true });
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
    importNotes: notes,
  };
}

/**
 * Dataset rows of a JSONL file. With `optional`, returns null (instead of throwing) as soon as a
 * line is not a dataset row: the file is then read as plain conversations.
 */
async function readDatasetRows(
  file: string,
  options: { tolerateTornTail: boolean; optional?: boolean },
): Promise<DatasetRow[] | null> {
  const rows: DatasetRow[] = [];
  let notRows = false;
  await readJsonlLines(
    file,
    (value, line) => {
      if (notRows) return;
      const parsed = DatasetRowSchema.safeParse(value);
      if (parsed.success) {
        rows.push(parsed.data);
        return;
      }
      if (options.optional) {
        notRows = true;
        return;
      }
      const issue = parsed.error.issues[0];
      throw new InputError(`not a dataset row: field "${issue.path.join('.')}": ${issue.message}`, file, line);
    },
    { tolerateTornTail: options.tolerateTornTail },
  );
  return notRows ? null : rows;
}

async function loadParquet(path: string): Promise<LoadedConversations> {
  let records: Record<string, unknown>[];
  try {
    records = (await parquetReadObjects({ file: await asyncBufferFromFile(path) })) as Record<string, unknown>[];
  } catch (error) {
    throw new InputError(`cannot read Parquet (${(error as Error).message})`, path);
  }
  const rows: DatasetRow[] = [];
  const conversations: EvaluatedConversation[] = [];
  let allRows = true;
  records.forEach((record, index) => {
    const normalized = normalizeParquetValue(record);
    const row = DatasetRowSchema.safeParse(normalized);
    if (row.success) rows.push(row.data);
    else allRows = false;
    const parsed = ParquetConversationSchema.safeParse(normalized);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(
        `row ${index + 1}: field "${issue.path.join('.')}": ${issue.message}; expected persona-forge dataset rows`,
        path,
      );
    }
    conversations.push({
      id: parsed.data.id ?? `row-${index + 1}`,
      iteration: parsed.data.iteration === undefined ? undefined : Number(parsed.data.iteration),
      user1_persona: parsed.data.user1_persona,
      user2_persona: parsed.data.user2_persona,
      turns: parsed.data.turns,
    });
  });
  return {
    path,
    kind: 'parquet',
    runId: rows[0]?.run_id ?? null,
    conversations: allRows ? rows : conversations,
    rows: allRows ? rows : null,
    importNotes: null,
  };
}

/** hyparquet reads INT64 as bigint and MAP columns as objects; dataset rows want numbers. */
function normalizeParquetValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(normalizeParquetValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalizeParquetValue(inner)]));
  }
  return value;
}
