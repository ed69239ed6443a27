import { z } from 'zod';
import { TurnSchema } from './turn.ts';

/** A row of a persona-forge Parquet file as hyparquet reads it: only what evaluation needs is checked. */
export const ParquetConversationSchema = z.object({
  id: z.string().optional(),
  /** Parquet INT64 columns may come back as bigint. */
  iteration: z.union([z.number(), z.bigint()]).optional(),
  user1_persona: z.array(z.string()),
  user2_persona: z.array(z.string()),
  turns: z.array(TurnSchema),
});
export type ParquetConversation = z.infer<typeof ParquetConversationSchema>;
