import type { Turn } from '../schemas/turn.ts';

/** What the exports need of a conversation (dataset rows and imported records both fit). */
export interface ExportableConversation {
  id: string;
  user1_persona: readonly string[];
  user2_persona: readonly string[];
  turns: readonly Turn[];
}

/** Newlines and tabs inside one utterance or attribute become spaces: each is one line in every export format. */
export function flattenLine(text: string): string {
  return text.replace(/\s*[\r\n\t]+\s*/g, ' ').trim();
}

function quoteCsv(cell: string): string {
  return `"${cell.replace(/"/g, '""')}"`;
}

/**
 * Renders conversations as Synthetic-Persona-Chat CSV: header `user 1 personas,user 2 personas,Best Generated Conversation`,
 * personas one attribute per line, the conversation as `User 1: …` / `User 2: …` lines; every
 * cell quoted (RFC 4180), records separated by CRLF as in SPC's release. Pure.
 */
export function renderSpcCsv(conversations: readonly ExportableConversation[]): string {
  const lines = ['user 1 personas,user 2 personas,Best Generated Conversation'];
  for (const conversation of conversations) {
    lines.push(
      [
        conversation.user1_persona.map(flattenLine).join('\n'),
        conversation.user2_persona.map(flattenLine).join('\n'),
        conversation.turns.map((turn) => `${turn.speaker}: ${flattenLine(turn.text)}`).join('\n'),
      ]
        .map(quoteCsv)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
