import type { Turn } from '../schemas/turn.ts';
import { flattenLine, type ExportableConversation } from './export-spc-csv.ts';

/** What a Persona-Chat export had to change, because the format cannot hold it. */
export interface PersonaChatExportNotes {
  /** Conversations whose consecutive utterances of one speaker were joined into one line. */
  mergedTurns: number;
  /** Conversations that started with User 2 (the first speaker becomes User 1 on import). */
  startedWithUser2: number;
  /** Final User 1 utterances without a User 2 reply (ParlAI lines hold pairs), dropped. */
  droppedTrailingUtterances: number;
  /** Replies whose `|` was replaced by `/` (ParlAI reads `|` as a separator of alternative labels). */
  replacedPipes: number;
}

/** Joins consecutive utterances of one speaker so the turns alternate. */
function alternate(turns: readonly Turn[]): { turns: Turn[]; merged: boolean } {
  const result: Turn[] = [];
  let merged = false;
  for (const turn of turns) {
    const previous = result.at(-1);
    if (previous && previous.speaker === turn.speaker) {
      previous.text = `${previous.text} ${flattenLine(turn.text)}`;
      merged = true;
    } else {
      result.push({ speaker: turn.speaker, text: flattenLine(turn.text) });
    }
  }
  return { turns: result, merged };
}

/**
 * Renders conversations in Persona-Chat's ParlAI "both" text format: per episode, numbered lines
 * starting at 1 — `your persona:` lines (User 2, who speaks the labels), `partner's persona:` lines
 * (User 1), then `N <User 1 text>\t<User 2 text>` dialogue lines. Lossy where the format is
 * narrower than ours; the notes count every such change. Pure.
 */
export function renderPersonaChat(conversations: readonly ExportableConversation[]): { text: string; notes: PersonaChatExportNotes } {
  const notes: PersonaChatExportNotes = { mergedTurns: 0, startedWithUser2: 0, droppedTrailingUtterances: 0, replacedPipes: 0 };
  const lines: string[] = [];
  for (const conversation of conversations) {
    const { turns, merged } = alternate(conversation.turns);
    if (merged) notes.mergedTurns++;
    // The first speaker is the partner (text column); the persona owner speaks the labels.
    const firstIsUser1 = turns[0]?.speaker !== 'User 2';
    if (!firstIsUser1) notes.startedWithUser2++;
    const partnerPersona = firstIsUser1 ? conversation.user1_persona : conversation.user2_persona;
    const selfPersona = firstIsUser1 ? conversation.user2_persona : conversation.user1_persona;
    let number = 1;
    for (const attribute of selfPersona) lines.push(`${number++} your persona: ${flattenLine(attribute)}`);
    for (const attribute of partnerPersona) lines.push(`${number++} partner's persona: ${flattenLine(attribute)}`);
    for (let index = 0; index + 1 < turns.length; index += 2) {
      let reply = turns[index + 1].text;
      if (reply.includes('|')) {
        reply = reply.replace(/\|/g, '/');
        notes.replacedPipes++;
      }
      lines.push(`${number++} ${turns[index].text}\t${reply}`);
    }
    if (turns.length % 2 === 1) notes.droppedTrailingUtterances++;
  }
  return { text: lines.length ? `${lines.join('\n')}\n` : '', notes };
}
