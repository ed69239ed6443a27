import type { ImportedDataset } from '../../schemas/imported-dataset.ts';
import { PoolRecordSchema } from '../../schemas/conversation.ts';
import { buildSeedRecord, fileStem } from './build-seed-record.ts';
import { noteImported, skipRecord, type ImportNotes } from './import-notes.ts';

/** A JSONL line: a pool record or a dataset row; only the personas and turns are read, `id` is optional. */
const JsonlConversationLineSchema = PoolRecordSchema.pick({
  user1_persona: true,
  user2_persona: true,
  turns: true,
}).extend({
  id: PoolRecordSchema.shape.id.optional(),
});

/**
 * Reads our JSONL: one JSON object per line, either a few-shot pool record (`seeds/conversations.jsonl`,
 * `pool-v<i>.jsonl`) or a dataset row (`conversations.jsonl`): `user1_persona`, `user2_persona`,
 * `turns` and an optional `id`. Every record is imported as a seed (iteration 0, score 0). A line
 * that is not JSON, not such a record, or repeats an id is skipped with its line (with
 * `notes.strict`: the error).
 */
export function importJsonlDataset(text: string, file: string, notes: ImportNotes): ImportedDataset {
  const stem = fileStem(file);
  const dataset: ImportedDataset = { format: 'jsonl', path: file, conversations: [], pairs: [] };
  const seenIds = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index].trim();
    if (line === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      skipRecord(notes, file, {
        line: lineNumber,
        reason: 'invalid_json',
        message: `invalid JSON (${reason}); each line must be one JSON object`,
      });
      continue;
    }
    const repairs = new Set<string>();
    const problem = repairRecord(data, repairs);
    if (problem) {
      skipRecord(notes, file, { line: lineNumber, ...problem });
      continue;
    }
    const result = JsonlConversationLineSchema.safeParse(data);
    if (!result.success) {
      const problems = result.error.issues.map(
        (issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
      );
      skipRecord(notes, file, {
        line: lineNumber,
        reason: 'not_a_conversation_record',
        message: `not a conversation record (${problems.join('; ')}); expected {"user1_persona": [...], "user2_persona": [...], "turns": [{"speaker": "User 1", "text": "..."}, ...]}`,
      });
      continue;
    }
    const id = result.data.id ?? `${stem}-${lineNumber}`;
    const firstLine = seenIds.get(id);
    if (firstLine !== undefined) {
      skipRecord(notes, file, {
        line: lineNumber,
        reason: 'duplicate_id',
        message: `duplicate id "${id}" (first used on line ${firstLine}); ids must be unique`,
      });
      continue;
    }
    seenIds.set(id, lineNumber);
    noteImported(notes, repairs);
    const { record, pair } = buildSeedRecord({
      id,
      user1Persona: result.data.user1_persona,
      user2Persona: result.data.user2_persona,
      turns: result.data.turns,
    });
    dataset.conversations.push(record);
    dataset.pairs.push(pair);
  }
  return dataset;
}

/**
 * In place, what a careful reader would fix in a record: speaker spelled `user 1` / `User1`,
 * utterances or persona lines that are blank. Returns the skip when nothing is left to import.
 */
function repairRecord(
  data: unknown,
  repairs: Set<string>,
): { reason: 'empty_conversation' | 'empty_persona'; message: string } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as Record<string, unknown>;
  for (const field of ['user1_persona', 'user2_persona'] as const) {
    const persona = record[field];
    if (!Array.isArray(persona)) continue;
    const kept = persona.filter((attribute) => typeof attribute !== 'string' || attribute.trim() !== '');
    if (kept.length < persona.length) repairs.add('empty_persona_lines');
    if (kept.length === 0) return { reason: 'empty_persona', message: `field "${field}" has no attribute` };
    record[field] = kept;
  }
  if (!Array.isArray(record.turns)) return undefined;
  const turns: unknown[] = [];
  for (const turn of record.turns as unknown[]) {
    if (typeof turn !== 'object' || turn === null) {
      turns.push(turn);
      continue;
    }
    const { speaker, text } = turn as { speaker?: unknown; text?: unknown };
    if (typeof text === 'string' && text.trim() === '') {
      repairs.add('empty_turns');
      continue;
    }
    const variant = typeof speaker === 'string' ? /^\s*user\s*([12])\s*:?\s*$/i.exec(speaker) : null;
    if (variant && speaker !== `User ${variant[1]}`) {
      repairs.add('speaker_label_variants');
      turns.push({ ...turn, speaker: `User ${variant[1]}` });
      continue;
    }
    turns.push(turn);
  }
  if (turns.length === 0) return { reason: 'empty_conversation', message: 'field "turns" has no utterance' };
  record.turns = turns;
  return undefined;
}
