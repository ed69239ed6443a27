import type { DatasetRow } from '../schemas/dataset-row.ts';
import type { ExportableConversation } from './export-spc-csv.ts';

/**
 * Renders JSONL: full dataset rows when given (the `conversations.jsonl` format), otherwise
 * `{id, user1_persona, user2_persona, turns}` records (the seed / pool format). Both are read
 * back by the JSONL importer. Pure.
 */
export function renderJsonl(records: readonly DatasetRow[] | readonly ExportableConversation[]): string {
  return records
    .map((record) =>
      JSON.stringify(
        'lineage' in record ? record : { id: record.id, user1_persona: record.user1_persona, user2_persona: record.user2_persona, turns: record.turns },
      ),
    )
    .map((line) => `${line}\n`)
    .join('');
}
