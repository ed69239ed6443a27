import { z } from 'zod';

/** A user profile: a handful of attributes that neither repeat nor contradict each other. */
export const ProfileSchema = z.object({
  id: z.string().min(1),
  /** Attribute sentences, in the order they were added. */
  attributes: z.array(z.string().min(1)).min(1).max(10),
});
export type Profile = z.infer<typeof ProfileSchema>;
