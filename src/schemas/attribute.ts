import { z } from 'zod';

/** One first-person sentence about a user ("I have two dogs."), as stored in seed and expansion files. */
export const AttributeSchema = z.object({
  /** Stable identifier, unique within its file (e.g. `pets-003`). */
  id: z.string().min(1),
  /** The attribute sentence, first person. */
  text: z.string().trim().min(3),
  /** Topic category (e.g. `pets`); used for diversity and reporting. */
  category: z.string().min(1),
  /** Cluster id assigned by persona expansion, when known. */
  cluster: z.string().optional(),
  /** The question the cluster answers ("Do you have pets?"), when known. */
  query: z.string().optional(),
});
export type Attribute = z.infer<typeof AttributeSchema>;
