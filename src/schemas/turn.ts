import { z } from 'zod';

export const SpeakerSchema = z.enum(['User 1', 'User 2']);
export type Speaker = z.infer<typeof SpeakerSchema>;

/** One utterance of a conversation. */
export const TurnSchema = z.object({
  speaker: SpeakerSchema,
  text: z.string().min(1),
});
export type Turn = z.infer<typeof TurnSchema>;
