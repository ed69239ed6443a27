import type { DatasetFormat } from '../../schemas/imported-dataset.ts';
import { InputError } from '../../errors.ts';

/** Human-readable list of what the importers read, for error messages and `--help`. */
export const SUPPORTED_DATASET_FORMATS = [
  'persona-chat: Persona-Chat / ConvAI2 ParlAI text (.txt; "1 your persona: …" and "N text<TAB>label" lines)',
  'spc-csv: Synthetic-Persona-Chat CSV (.csv; columns "user 1 personas", "user 2 personas", "Best Generated Conversation")',
  'jsonl: persona-forge JSONL (.jsonl; pool records or dataset rows with user1_persona, user2_persona, turns)',
] as const;

/**
 * Decides the format of a seed dataset from its content (first non-empty line), using the file
 * extension only to break ties. Throws `InputError` listing the supported formats when unsure.
 */
export function detectDatasetFormat(file: string, text: string): DatasetFormat {
  const firstLine =
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .find((line) => line.trim() !== '') ?? '';
  const extension = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  if (firstLine.trim().startsWith('{')) return 'jsonl';
  if (/^\d+ \S/.test(firstLine)) return 'persona-chat';
  if (/user\s*1\s*personas?/i.test(firstLine) || /best generated conversation/i.test(firstLine)) return 'spc-csv';
  if (extension === 'csv') return 'spc-csv';
  if (extension === 'jsonl' || extension === 'ndjson') return 'jsonl';
  if (firstLine === '') throw new InputError('file is empty', file);
  throw new InputError(
    `cannot tell the dataset format from the first line ("${firstLine.slice(0, 60)}"). Supported formats:\n` +
      SUPPORTED_DATASET_FORMATS.map((format) => `  - ${format}`).join('\n'),
    file,
    1,
  );
}
