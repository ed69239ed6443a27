import { readFile } from 'node:fs/promises';
import { BatchStateLineSchema, type BatchStateLine } from '../../schemas/batch-state.ts';

/** A batch input file recorded as uploaded in `batches.jsonl` (its batch may not be recorded yet). */
export interface Upload {
  inputFileId: string;
  customIds: string[];
  requestsByStage: Record<string, number> | undefined;
  /** When the `uploaded` line was written (ISO 8601). */
  at: string;
}

/**
 * The lines of a run's `batches.jsonl`, in order; none when the file does not exist. A line torn by
 * a crash (or otherwise unreadable) is skipped: a batch's `submitted` line is complete before its
 * requests wait on it.
 */
export async function readBatchStateLines(stateFile: string): Promise<BatchStateLine[]> {
  const text = await readFile(stateFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const lines: BatchStateLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const parsed = BatchStateLineSchema.safeParse(parseJsonOrUndefined(raw));
    if (parsed.success) lines.push(parsed.data);
  }
  return lines;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
