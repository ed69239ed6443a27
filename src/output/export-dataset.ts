import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SCHEMA_VERSION, type DatasetRow } from '../schemas/dataset-row.ts';
import { renderJsonl } from './export-jsonl.ts';
import { renderPersonaChat, type PersonaChatExportNotes } from './export-persona-chat.ts';
import { renderSpcCsv, type ExportableConversation } from './export-spc-csv.ts';
import { writeDatasetParquet } from './write-dataset-parquet.ts';

export const EXPORT_FORMATS = ['spc-csv', 'persona-chat', 'jsonl', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What `exportDataset` writes from. */
export interface ExportSource {
  /** Conversations in order. */
  conversations: readonly ExportableConversation[];
  /** Full dataset rows of the same conversations, when the source has them (a run, our JSONL). */
  rows: readonly DatasetRow[] | null;
  /** Source path, used to name rows made up for Parquet. */
  path: string;
}

export interface ExportResult {
  format: ExportFormat;
  path: string;
  conversations: number;
  /** Lossy changes (Persona-Chat) or made-up fields (Parquet from a file without rows). */
  notes: string[];
}

/**
 * Writes conversations as SPC CSV, Persona-Chat text, JSONL or Parquet (through a temporary file
 * and a rename). Parquet uses the dataset-row schema: sources without rows (SPC CSV, Persona-Chat)
 * get rows with `iteration` 1, empty scores and lineage `generator_model: "imported"`.
 */
export async function exportDataset(source: ExportSource, format: ExportFormat, outputPath: string): Promise<ExportResult> {
  await mkdir(dirname(outputPath), { recursive: true });
  const notes: string[] = [];
  const temporaryPath = `${outputPath}.${process.pid}.tmp`;
  if (format === 'parquet') {
    const rows = source.rows ?? importedRows(source);
    if (!source.rows) notes.push('the source has no dataset rows: lineage, scores and usage are placeholders (generator_model "imported")');
    await writeDatasetParquet(rows, outputPath);
    return { format, path: outputPath, conversations: rows.length, notes };
  }
  let text: string;
  if (format === 'spc-csv') text = renderSpcCsv(source.conversations);
  else if (format === 'jsonl') text = renderJsonl(source.rows ?? source.conversations);
  else {
    const rendered = renderPersonaChat(source.conversations);
    text = rendered.text;
    notes.push(...describePersonaChatNotes(rendered.notes));
  }
  await writeFile(temporaryPath, text, 'utf8');
  await rename(temporaryPath, outputPath);
  return { format, path: outputPath, conversations: source.conversations.length, notes };
}

function describePersonaChatNotes(notes: PersonaChatExportNotes): string[] {
  const described: string[] = [];
  if (notes.mergedTurns) described.push(`${notes.mergedTurns} conversation(s) had consecutive utterances of one speaker, joined into one`);
  if (notes.startedWithUser2) described.push(`${notes.startedWithUser2} conversation(s) started with User 2; on import the first speaker is User 1`);
  if (notes.droppedTrailingUtterances) described.push(`${notes.droppedTrailingUtterances} conversation(s) ended with an unanswered User 1 utterance, dropped (ParlAI lines hold pairs)`);
  if (notes.replacedPipes) described.push(`${notes.replacedPipes} User 2 utterance(s) contained "|", replaced by "/" (ParlAI label separator)`);
  return described;
}

function importedRows(source: ExportSource): DatasetRow[] {
  const runId = `imported-${basename(source.path).replace(/\.[^.]+$/, '')}`;
  const createdAt = new Date().toISOString();
  return source.conversations.map((conversation) => ({
    id: conversation.id,
    run_id: runId,
    iteration: 1,
    pair_id: conversation.id,
    user1_persona: [...conversation.user1_persona],
    user2_persona: [...conversation.user2_persona],
    turns: conversation.turns.map((turn) => ({ ...turn })),
    scores: {},
    lineage: {
      generator_model: 'imported',
      critic_model: 'imported',
      prompt_hash: '',
      critic_hashes: {},
      few_shot_ids: [],
      pool_version: 0,
      candidate_index: 0,
      candidates: 1,
    },
    usage: { prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    created_at: createdAt,
    schema_version: SCHEMA_VERSION,
  }));
}
