import { z } from 'zod';

/**
 * What the run report reads of a `plan.jsonl` line: only the fields it shows (the pair's personas
 * in the conversation browser), so plans written by older versions still read.
 */
export const PlanLineViewSchema = z.object({
  iteration: z.number().int(),
  pair: z.object({
    id: z.string(),
    user1: z.object({ attributes: z.array(z.string()) }),
    user2: z.object({ attributes: z.array(z.string()) }),
  }),
});
export type PlanLineView = z.infer<typeof PlanLineViewSchema>;
