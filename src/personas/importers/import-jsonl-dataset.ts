import type { ImportedDataset } from '../../schemas/imported-dataset.ts';
import { PoolRecordSchema } from '../../schemas/conversation.ts';
import { InputError } from '../../errors.ts';
import { buildSeedRecord, fileStem } from './build-seed-record.ts';
import type { ImportNotes } from './import-notes.ts';

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
 * `turns` and an optional `id`. Every record is imported as a seed (iteration 0, score 0).
 */
export function importJsonlDataset(text: string, file: string, _notes: ImportNotes): ImportedDataset {
  const stem = fileStem(file);
  const dataset: ImportedDataset = { format: 'jsonl', path: file, conversations: [], pairs: [] };
  const seenIds = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index].trim();
    if (line === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InputError(`invalid JSON (${reason}); each line must be one JSON object`, file, lineNumber);
    }
    const result = JsonlConversationLineSchema.safeParse(data);
    if (!result.success) {
      const problems = result.error.issues.map(
        (issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
      );
      throw new InputError(
        `not a conversation record (${problems.join('; ')}); expected {"user1_persona": [...], "user2_persona": [...], "turns": [{"speaker": "User 1", "text": "..."}, ...]}`,
        file,
        lineNumber,
      );
    }
    const id = result.data.id ?? `${stem}-${lineNumber}`;
    const firstLine = seenIds.get(id);
    if (firstLine !== undefined) {
      throw new InputError(
        `duplicate id "${id}" (first used on line ${firstLine}); ids must be unique`,
        file,
        lineNumber,
      );
    }
    seenIds.set(id, lineNumber);
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
