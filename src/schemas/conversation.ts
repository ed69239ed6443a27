import { z } from 'zod';
import { TurnSchema } from './turn.ts';

/** Alternating `User 1` / `User 2` utterances. */
export const ConversationSchema = z.array(TurnSchema).min(1);
export type Conversation = z.infer<typeof ConversationSchema>;

/**
 * A few-shot pool record: a pair's personas and a conversation between them.
 * This is also the format of `seeds/conversations.jsonl` and of `pool-v<i>.jsonl`.
 */
export const PoolRecordSchema = z.object({
  id: z.string().min(1),
  user1_persona: z.array(z.string().min(1)).min(1),
  user2_persona: z.array(z.string().min(1)).min(1),
  turns: ConversationSchema,
  /** `seed` for records from seed files, `generated` for winners of an iteration. */
  source: z.enum(['seed', 'generated']).default('seed'),
  /** Iteration that produced it (0 for seeds). */
  iteration: z.number().int().min(0).default(0),
  /** Aggregate (Copeland) score of the winner; seeds have 0. Used to keep the best when capping. */
  score: z.number().default(0),
});
export type PoolRecord = z.infer<typeof PoolRecordSchema>;
