import type { Turn } from '../schemas/turn.ts';

export interface ParsedConversation {
  turns: Turn[];
  /** Why the reply could not be read as a conversation; absent when it parsed. */
  parseError?: string;
}

// "User 1:", "user1 -", "**User 2:**", "USER 2 :" — models decorate speaker labels in many ways.
const SPEAKER_LINE = /^\s*[*_]{0,2}\s*user\s*([12])\s*[*_]{0,2}\s*[:\-–]\s*[*_]{0,2}\s*(.*)$/i;

/**
 * Parses a generator reply into `User 1` / `User 2` turns. Text before the first speaker line
 * (preambles) is dropped; lines without a label continue the previous utterance. Alternation is
 * not enforced here: the lint checks judge it, so a bad candidate is recorded rather than lost.
 */
export function parseConversation(rawText: string): ParsedConversation {
  const turns: Turn[] = [];
  for (const line of rawText.split(/\r?\n/)) {
    const match = SPEAKER_LINE.exec(line);
    if (match) {
      const text = match[2].replace(/[*_]{2}$/, '').trim();
      turns.push({ speaker: match[1] === '1' ? 'User 1' : 'User 2', text });
      continue;
    }
    const continuation = line.trim();
    if (continuation && turns.length > 0) {
      const last = turns[turns.length - 1];
      last.text = last.text ? `${last.text} ${continuation}` : continuation;
    }
  }
  const nonEmpty = turns.filter((turn) => turn.text.length > 0);
  if (nonEmpty.length === 0) {
    return { turns: [], parseError: 'no "User 1:" / "User 2:" lines found in the reply' };
  }
  if (nonEmpty.length < turns.length) {
    return { turns: nonEmpty, parseError: `${turns.length - nonEmpty.length} empty utterance(s)` };
  }
  return { turns: nonEmpty };
}
