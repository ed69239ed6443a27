import type { Turn } from '../schemas/turn.ts';

/** Renders turns as `User 1: …` / `User 2: …` lines, the format the generator is asked to write. */
export function renderConversation(turns: readonly Turn[]): string {
  return turns.map((turn) => `${turn.speaker}: ${turn.text}`).join('\n');
}
