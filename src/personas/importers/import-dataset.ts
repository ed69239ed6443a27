import { readFile } from 'node:fs/promises';
import type { DatasetFormat, ImportedDataset } from '../../schemas/imported-dataset.ts';
import { InputError } from '../../errors.ts';
import { detectDatasetFormat } from './detect-dataset-format.ts';
import type { ImportSummary } from '../../schemas/import-summary.ts';
import { emptyImportNotes, summarizeImport, type ImportNotes } from './import-notes.ts';
import { importJsonlDataset } from './import-jsonl-dataset.ts';
import { importPersonaChat } from './import-persona-chat.ts';
import { importSpcCsv } from './import-spc-csv.ts';

export interface ImportDatasetOptions {
  /** Skip autodetection. @defaultValue detected from the content (then the extension) */
  format?: DatasetFormat;
  /**
   * Stop with an `InputError` naming `file:line` at the first record that cannot be imported,
   * instead of skipping and counting it. @defaultValue false
   */
  strict?: boolean;
}

/** An imported dataset and what the importer skipped, joined or repaired on the way. */
export interface ImportReport {
  dataset: ImportedDataset;
  notes: ImportNotes;
  /** The notes as counts and skipped records, for summaries and JSON outputs. */
  summary: ImportSummary;
}

const IMPORTERS: Record<DatasetFormat, (text: string, file: string, notes: ImportNotes) => ImportedDataset> = {
  'persona-chat': importPersonaChat,
  'spc-csv': importSpcCsv,
  jsonl: importJsonlDataset,
};

/**
 * Reads a seed dataset (Persona-Chat ParlAI text, Synthetic-Persona-Chat CSV or persona-forge JSONL,
 * autodetected) into pool records (`source: "seed"`) and pairs that share ids, in file order.
 * Records that cannot be imported are skipped (see `importDatasetWithNotes` for the accounting);
 * throws `InputError` naming the file (and line) when the file as a whole is unusable, or, with
 * `strict`, at the first skipped record.
 */
export async function importDataset(path: string, options: ImportDatasetOptions = {}): Promise<ImportedDataset> {
  return (await importDatasetWithNotes(path, options)).dataset;
}

/** `importDataset` plus what was imported, repaired (by kind) and skipped (by reason, with lines). */
export async function importDatasetWithNotes(path: string, options: ImportDatasetOptions = {}): Promise<ImportReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot read (${code ?? String(error)})`;
    throw new InputError(`${reason}; pass the path of a seed dataset file`, path);
  }
  const format = options.format ?? detectDatasetFormat(path, text);
  const notes = emptyImportNotes({ strict: options.strict });
  const dataset = IMPORTERS[format](text, path, notes);
  if (dataset.conversations.length === 0) {
    const skipped = notes.skipped.length;
    const first = notes.skipped[0];
    throw new InputError(
      skipped === 0
        ? `no conversations found in this ${format} file`
        : `no conversations found in this ${format} file: all ${skipped} records were skipped (the first: ${first.message})`,
      path,
      first?.line,
    );
  }
  return { dataset, notes, summary: summarizeImport(notes, path, format) };
}
