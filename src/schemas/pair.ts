import { z } from 'zod';
import { ProfileSchema } from './profile.ts';

/** Two profiles that will talk to each other: `user1` speaks as "User 1", `user2` as "User 2". */
export const PairSchema = z.object({
  id: z.string().min(1),
  user1: ProfileSchema,
  user2: ProfileSchema,
});
export type Pair = z.infer<typeof PairSchema>;
