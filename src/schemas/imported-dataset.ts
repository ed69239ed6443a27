import { z } from 'zod';
import { PoolRecordSchema } from './conversation.ts';
import { PairSchema } from './pair.ts';

/** Formats the importers recognise (autodetected from content and extension). */
export const DatasetFormatSchema = z.enum(['persona-chat', 'spc-csv', 'jsonl']);
export type DatasetFormat = z.infer<typeof DatasetFormatSchema>;

/**
 * A seed dataset read by an importer: its conversations (as few-shot pool records, `source: "seed"`)
 * and its persona pairs (one per conversation, same order, ids shared with the records).
 */
export const ImportedDatasetSchema = z.object({
  format: DatasetFormatSchema,
  path: z.string(),
  conversations: z.array(PoolRecordSchema),
  pairs: z.array(PairSchema),
});
export type ImportedDataset = z.infer<typeof ImportedDatasetSchema>;
