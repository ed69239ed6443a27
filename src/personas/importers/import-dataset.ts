import { readFile } from 'node:fs/promises';
import type { DatasetFormat, ImportedDataset } from '../../schemas/imported-dataset.ts';
import { InputError } from '../../errors.ts';
import { detectDatasetFormat } from './detect-dataset-format.ts';
import { emptyImportNotes, type ImportNotes } from './import-notes.ts';
import { importJsonlDataset } from './import-jsonl-dataset.ts';
import { importPersonaChat } from './import-persona-chat.ts';
import { importSpcCsv } from './import-spc-csv.ts';

export interface ImportDatasetOptions {
  /** Skip autodetection. @defaultValue detected from the content (then the extension) */
  format?: DatasetFormat;
}

/** An imported dataset and what the importer skipped, joined or repaired on the way. */
export interface ImportReport {
  dataset: ImportedDataset;
  notes: ImportNotes;
}

const IMPORTERS: Record<DatasetFormat, (text: string, file: string, notes: ImportNotes) => ImportedDataset> = {
  'persona-chat': importPersonaChat,
  'spc-csv': importSpcCsv,
  jsonl: importJsonlDataset,
};

/**
 * Reads a seed dataset (Persona-Chat ParlAI text, Synthetic-Persona-Chat CSV or persona-forge JSONL,
 * autodetected) into pool records (`source: "seed"`) and pairs that share ids, in file order.
 * Throws `InputError` naming the file and line, and how to fix it.
 */
export async function importDataset(path: string, options: ImportDatasetOptions = {}): Promise<ImportedDataset> {
  return (await importDatasetWithNotes(path, options)).dataset;
}

/** `importDataset` plus the notes (skipped episodes, duplicates, turn repairs) for reports. */
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
  const notes = emptyImportNotes();
  const dataset = IMPORTERS[format](text, path, notes);
  if (dataset.conversations.length === 0) {
    throw new InputError(`no conversations found in this ${format} file`, path);
  }
  return { dataset, notes };
}
